import Testing
@testable import MeshCA

@Test func moduleName() {
    #expect(MeshCAModule.name == "MeshCA")
}
