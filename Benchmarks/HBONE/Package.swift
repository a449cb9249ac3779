// swift-tools-version: 6.1
// The HBONE benchmark: a separate package so that the main package and CI never build it.
// Run it through scripts/bench-hbone.sh, which measures ours and Envoy's side by side.
import PackageDescription

let package = Package(
    name: "HBONEBenchmark",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "SwiftMesh", path: "../.."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "hbone-bench",
            dependencies: [
                .product(name: "MeshL4", package: "SwiftMesh"),
                .product(name: "MeshCA", package: "SwiftMesh"),
                .product(name: "MeshAPI", package: "SwiftMesh"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        )
    ]
)
