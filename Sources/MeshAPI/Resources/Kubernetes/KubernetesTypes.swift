/// A value that is either an integer or a string, as Kubernetes' `intstr.IntOrString`
/// (`targetPort: 8080` or `targetPort: http`).
///
/// Decoding keeps the kind that was written: `8080` is ``int(_:)``, `"8080"` is
/// ``string(_:)`` (Kubernetes treats a quoted number as a port *name*).
public enum IntOrString: Codable, Sendable, Hashable, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral,
    CustomStringConvertible
{
    case int(Int)
    case string(String)

    public init(integerLiteral value: Int) { self = .int(value) }
    public init(stringLiteral value: String) { self = .string(value) }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "expected an integer (a port number such as 8080) or a string (a port name such as http)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .int(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        }
    }

    /// The integer, when this is one.
    public var intValue: Int? {
        if case .int(let value) = self { return value }
        return nil
    }

    /// The string, when this is one.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var description: String {
        switch self {
        case .int(let value): return String(value)
        case .string(let value): return value
        }
    }
}

/// Kubernetes core types shared by several resources.
public enum Kubernetes {
    /// A transport protocol of a port.
    public enum PortProtocol: String, ManifestEnum {
        case TCP, UDP, SCTP
    }

    /// A label selector (`metav1.LabelSelector`): all of `matchLabels` and all
    /// `matchExpressions` must hold. An empty selector matches everything.
    public struct LabelSelector: Codable, Sendable, Hashable {
        public var matchLabels: [String: String]?
        public var matchExpressions: [Requirement]?

        /// One `matchExpressions` entry.
        public struct Requirement: Codable, Sendable, Hashable {
            public var key: String
            public var `operator`: Operator
            /// Required for `In` and `NotIn`, empty for `Exists` and `DoesNotExist`.
            public var values: [String]?

            public init(key: String, operator: Operator, values: [String]? = nil) {
                self.key = key
                self.operator = `operator`
                self.values = values
            }
        }

        /// How a requirement compares a label with its values.
        public enum Operator: String, ManifestEnum {
            case In, NotIn, Exists, DoesNotExist
        }

        public init(matchLabels: [String: String]? = nil, matchExpressions: [Requirement]? = nil) {
            self.matchLabels = matchLabels
            self.matchExpressions = matchExpressions
        }

        /// Whether `labels` satisfy the selector.
        public func matches(_ labels: [String: String]?) -> Bool {
            let labels = labels ?? [:]
            for (key, value) in matchLabels ?? [:] where labels[key] != value { return false }
            for requirement in matchExpressions ?? [] {
                let value = labels[requirement.key]
                let values = requirement.values ?? []
                switch requirement.operator {
                case .In: if value.map(values.contains) != true { return false }
                case .NotIn: if let value, values.contains(value) { return false }
                case .Exists: if value == nil { return false }
                case .DoesNotExist: if value != nil { return false }
                }
            }
            return true
        }

        /// Checks keys, values and operators as the apiserver does.
        func validate(at path: FieldPath, into context: inout ValidationContext) {
            Rules.validateLabels(matchLabels, at: path("matchLabels"), into: &context)
            for (i, requirement) in (matchExpressions ?? []).enumerated() {
                let at = path("matchExpressions")[i]
                if let problem = Rules.labelKeyProblem(requirement.key) { context.error(at("key"), problem) }
                let count = requirement.values?.count ?? 0
                switch requirement.operator {
                case .In, .NotIn:
                    if count == 0 {
                        context.error(at("values"), "operator \(requirement.operator.rawValue) needs at least one value")
                    }
                case .Exists, .DoesNotExist:
                    if count > 0 {
                        context.error(at("values"), "operator \(requirement.operator.rawValue) takes no values; remove them or use In/NotIn")
                    }
                }
            }
        }
    }

    /// A status condition: `metav1.Condition` and the core conditions of pods and
    /// namespaces, which share these fields.
    public struct Condition: Codable, Sendable, Hashable {
        /// The condition's type, e.g. `Ready`, `Accepted`, `Programmed`.
        public var type: String
        /// `True`, `False` or `Unknown`.
        public var status: String
        public var observedGeneration: Int64?
        public var lastProbeTime: String?
        public var lastTransitionTime: String?
        public var reason: String?
        public var message: String?

        public init(
            type: String, status: String, observedGeneration: Int64? = nil, lastProbeTime: String? = nil,
            lastTransitionTime: String? = nil, reason: String? = nil, message: String? = nil
        ) {
            self.type = type
            self.status = status
            self.observedGeneration = observedGeneration
            self.lastProbeTime = lastProbeTime
            self.lastTransitionTime = lastTransitionTime
            self.reason = reason
            self.message = message
        }

        /// Whether `status` is `True`.
        public var isTrue: Bool { status == "True" }
    }

    /// A reference to another object (`core/v1.ObjectReference`), e.g. an EndpointSlice
    /// endpoint's pod.
    public struct ObjectReference: Codable, Sendable, Hashable {
        public var kind: String?
        public var namespace: String?
        public var name: String?
        public var uid: String?
        public var apiVersion: String?
        public var resourceVersion: String?
        public var fieldPath: String?

        public init(
            kind: String? = nil, namespace: String? = nil, name: String? = nil, uid: String? = nil,
            apiVersion: String? = nil, resourceVersion: String? = nil, fieldPath: String? = nil
        ) {
            self.kind = kind
            self.namespace = namespace
            self.name = name
            self.uid = uid
            self.apiVersion = apiVersion
            self.resourceVersion = resourceVersion
            self.fieldPath = fieldPath
        }
    }

    /// A reference by name to an object in the same namespace (`core/v1.LocalObjectReference`).
    public struct LocalObjectReference: Codable, Sendable, Hashable {
        public var name: String?

        public init(name: String? = nil) { self.name = name }
    }

    /// Checks an address Kubernetes stores in a status (`podIP`, `hostIP`), recording an
    /// error when it is not an IP address.
    static func validateIP(_ ip: String?, at path: FieldPath, what: String, into context: inout ValidationContext) {
        guard let ip, !ip.isEmpty, !Rules.isIPAddress(ip) else { return }
        context.error(path, "\(what) \"\(ip)\" is not an IP address: use an IPv4 (10.244.1.7) or IPv6 (fd00:10:244::7) address")
    }
}
