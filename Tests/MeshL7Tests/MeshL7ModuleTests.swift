import Testing
@testable import MeshL7

@Test func moduleName() {
    #expect(MeshL7Module.name == "MeshL7")
}
