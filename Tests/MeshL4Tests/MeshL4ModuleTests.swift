import Testing
@testable import MeshL4

@Test func moduleName() {
    #expect(MeshL4Module.name == "MeshL4")
}
