import Testing
@testable import MeshXDS

@Test func moduleName() {
    #expect(MeshXDSModule.name == "MeshXDS")
}
