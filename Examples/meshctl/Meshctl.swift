import ArgumentParser

/// `meshctl`: the SwiftMesh command-line tool.
@main
struct Meshctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meshctl",
        abstract: "Work with a SwiftMesh ambient mesh: validate manifests, run the local demo.",
        subcommands: [Validate.self, Demo.self]
    )
}
