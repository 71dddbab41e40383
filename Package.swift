// swift-tools-version:6.1
import PackageDescription

// Strict concurrency is the Swift 6 language mode's default; the settings
// below keep every target of ours on the same footing.
let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

let package = Package(
    name: "ota-ingest",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "ota-ingest", targets: ["ota-ingest"]),
        .executable(name: "ota-sandbox", targets: ["ota-sandbox"]),
        .library(name: "IngestCore", targets: ["IngestCore"]),
        .library(name: "OTAIngest", targets: ["OTAIngest"]),
        .library(name: "OTASandbox", targets: ["OTASandbox"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0", traits: []),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        // Already pulled in by Hummingbird; named here so tests can read a bound port.
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        // The webhook receiver: graceful shutdown on signals, and /metrics.
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
    ],
    targets: [
        // C libraries: libpq and libcurl, each with a shim for what Swift cannot call.
        .systemLibrary(
            name: "CLibPQ", pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]),
        .systemLibrary(
            name: "CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),

        // One thread per C handle: the executor both wrappers run their actors on.
        .target(name: "DedicatedThread", swiftSettings: strict),
        .target(name: "PostgresClient", dependencies: ["CLibPQ", "DedicatedThread"], swiftSettings: strict),
        .target(name: "HTTPClient", dependencies: ["CCurl", "DedicatedThread"], swiftSettings: strict),
        // Where JSON strings start and end, for the scanners that find records and nesting.
        .target(name: "JSONSyntax", swiftSettings: strict),

        // The warehouse SQL lives in sql/ for analysts; the EmbedSQL plugin compiles
        // every file into this target at build time, so an installed binary needs
        // nothing beside it.
        .executableTarget(name: "embed-sql", swiftSettings: strict),
        .plugin(name: "EmbedSQL", capability: .buildTool(), dependencies: ["embed-sql"]),
        .target(name: "WarehouseSQL", swiftSettings: strict, plugins: ["EmbedSQL"]),
        // `ota-ingest --version` names the git commit it was built from.
        .plugin(name: "StampCommit", capability: .buildTool()),

        // The run core every feature stands on: the run scope and its ledger, the clock,
        // the stream names, counters, logging, progress and landing. It imports no
        // feature: the compiler keeps the direction.
        .target(
            name: "IngestCore",
            dependencies: [
                "PostgresClient",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .target(
            name: "OTAIngest",
            dependencies: [
                "IngestCore", "PostgresClient", "HTTPClient", "WarehouseSQL", "JSONSyntax",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: strict),
        // `ota-ingest serve`, in a target of its own so Hummingbird stays out of the batch code.
        .target(
            name: "Receiver",
            dependencies: [
                "IngestCore", "OTAIngest", "PostgresClient", "JSONSyntax",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "ota-ingest",
            dependencies: [
                "OTAIngest", "Receiver", "WarehouseSQL",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict, plugins: ["StampCommit"]),

        // The local OTA. It shares no code with the client side on purpose:
        // a misreading of the API must not hide on both sides at once.
        .target(
            name: "OTASandbox",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "ota-sandbox",
            dependencies: [
                "OTASandbox",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),

        // `make bench-copy`: PostgresClient's COPY against psql's \copy of the same file.
        .executableTarget(name: "ota-bench", dependencies: ["PostgresClient"], swiftSettings: strict),

        // Shared by the test targets: a fresh database per test on the real server.
        .target(
            name: "TestSupport", dependencies: ["PostgresClient"], path: "Tests/TestSupport",
            swiftSettings: strict),
        .testTarget(name: "DedicatedThreadTests", dependencies: ["DedicatedThread"], swiftSettings: strict),
        .testTarget(name: "JSONSyntaxTests", dependencies: ["JSONSyntax"], swiftSettings: strict),
        .testTarget(
            name: "PostgresClientTests", dependencies: ["PostgresClient", "TestSupport"],
            swiftSettings: strict),
        .testTarget(
            name: "HTTPClientTests",
            dependencies: [
                "HTTPClient", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .testTarget(
            name: "OTAIngestTests",
            dependencies: ["OTAIngest", "OTASandbox", "TestSupport", "WarehouseSQL", "HTTPClient"],
            exclude: ["Fixtures"], swiftSettings: strict),
        .testTarget(
            name: "ReceiverTests",
            dependencies: [
                "Receiver", "OTAIngest", "OTASandbox", "TestSupport", "HTTPClient",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strict),
        // Hummingbird (and its Logging) runs the small webhook receiver the tests listen
        // with; Crypto checks the signatures independently of the sandbox's own code.
        .testTarget(
            name: "OTASandboxTests",
            dependencies: [
                "OTASandbox",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
    ]
)
