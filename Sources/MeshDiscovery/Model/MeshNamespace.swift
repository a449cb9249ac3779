/// A namespace as the mesh sees it.
public struct MeshNamespace: Sendable, Hashable, Identifiable {
    public var name: String
    public var labels: [String: String]
    /// The namespace carries `istio.io/dataplane-mode=ambient`.
    public var ambient: Bool
    /// The waypoint requested with `istio.io/use-waypoint` (not necessarily existing).
    public var useWaypoint: NamespacedName?

    public var id: String { name }

    public init(name: String, labels: [String: String] = [:], ambient: Bool = false, useWaypoint: NamespacedName? = nil) {
        self.name = name
        self.labels = labels
        self.ambient = ambient
        self.useWaypoint = useWaypoint
    }
}
