import Testing
@testable import MeshAPI

@Test func moduleName() { #expect(MeshAPIModule.name == "MeshAPI") }
