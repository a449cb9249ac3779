import Testing
@testable import MeshDiscovery

@Test func moduleName() {
    #expect(MeshDiscoveryModule.name == "MeshDiscovery")
}
