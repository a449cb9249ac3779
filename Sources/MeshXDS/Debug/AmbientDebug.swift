import Foundation
import MeshProto
import SwiftProtobuf

extension AmbientController {
    /// `/debug/registryz`: every Address and Authorization the controller serves, as JSON
    /// (protobuf JSON of `istio.workload.Address` and `istio.security.Authorization`).
    public func registryJSON() -> String {
        func entries(_ cache: LinearCache) -> [String] {
            cache.resources.values.sorted { $0.name < $1.name }.map { resource in
                let body: String
                if resource.typeURL == TypeURL.workloadAddress,
                    let message = try? Istio_Workload_Address(serializedBytes: Array(resource.any.value))
                {
                    body = (try? message.jsonString()) ?? "null"
                } else if let message = try? Istio_Security_Authorization(serializedBytes: Array(resource.any.value)) {
                    body = (try? message.jsonString()) ?? "null"
                } else {
                    body = "null"
                }
                return #"{"name":\#(jsonQuoted(resource.name)),"version":\#(jsonQuoted(resource.version)),"resource":\#(body)}"#
            }
        }
        return #"{"addresses":[\#(entries(addresses).joined(separator: ","))],"authorizations":[\#(entries(authorizations).joined(separator: ","))]}"#
    }
}

/// A JSON string literal for `text`.
func jsonQuoted(_ text: String) -> String {
    let data = (try? JSONSerialization.data(withJSONObject: [text])) ?? Data("[\"\"]".utf8)
    let array = String(decoding: data, as: UTF8.self)
    return String(array.dropFirst().dropLast())
}
