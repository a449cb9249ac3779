// swift-tools-version: 6.1
// Benchmarks for SwiftMesh, kept out of the main package so that `swift build` and CI never
// build them. Run them with `scripts/bench.sh` (release).
import PackageDescription

let package = Package(
    name: "SwiftMeshBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "SwiftMesh", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", exact: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/grpc/grpc-swift-2.git", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport.git", from: "2.9.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
    ],
    targets: [
        // The scenarios, shared by the package-benchmark targets and the plain runner.
        .target(
            name: "MeshBenchSupport",
            dependencies: [
                .product(name: "MeshCA", package: "SwiftMesh"),
                .product(name: "MeshXDS", package: "SwiftMesh"),
                .product(name: "MeshProto", package: "SwiftMesh"),
                .product(name: "MeshAPI", package: "SwiftMesh"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // The xDS clients, in their own process so that the server's memory is measured alone.
        .executableTarget(
            name: "xds-load-clients",
            dependencies: ["MeshBenchSupport"],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        // A plain runner printing the same measurements (handy under perf/valgrind).
        .executableTarget(
            name: "mesh-bench",
            dependencies: ["MeshBenchSupport", .product(name: "CoreMetrics", package: "swift-metrics")],
            swiftSettings: [.swiftLanguageMode(.v6)]
        ),
        .executableTarget(
            name: "XDSPush",
            dependencies: ["MeshBenchSupport", .product(name: "Benchmark", package: "benchmark")],
            path: "Benchmarks/XDSPush",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "CASigning",
            dependencies: ["MeshBenchSupport", .product(name: "Benchmark", package: "benchmark")],
            path: "Benchmarks/CASigning",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
