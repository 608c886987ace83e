// swift-tools-version: 6.1
import PackageDescription

/// Settings shared by every Swift target: Swift 6 language mode (strict concurrency) plus the upcoming
/// features the server ecosystem builds with.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "PrefixRouter",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "PrefixRouter", targets: ["PrefixRouter"]),
        .executable(name: "PrefixRouterBench", targets: ["PrefixRouterBench"]),
        // The simulator as a library, for the fuzz harness in Fuzz/ and for users' own experiments. Underscored,
        // as swift-nio names its non-API products: it is not part of the library's semver surface.
        .library(name: "_FleetSimulation", targets: ["_FleetSimulation"]),
    ],
    dependencies: [
        // Used by the bench only; the PrefixRouter library depends on the toolchain and libxxhash alone.
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.1.0"),
    ],
    targets: [
        // libxxhash (Debian: libxxhash-dev). Never visible in PrefixRouter's public API.
        .systemLibrary(
            name: "CXXHash",
            pkgConfig: "libxxhash",
            providers: [.apt(["libxxhash-dev"]), .brew(["xxhash"])]
        ),
        // The routing library: prefix hashing, the bounded-load ring, leases, strategies.
        .target(
            name: "PrefixRouter",
            dependencies: ["CXXHash"],
            swiftSettings: swiftSettings
        ),
        // Trace readers, synthetic workloads, the discrete-event fleet simulator and peers' policies.
        .target(
            name: "_FleetSimulation",
            dependencies: [
                "PrefixRouter",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Sources/FleetSimulation",
            swiftSettings: swiftSettings
        ),
        // The bench command line: replays a trace through every strategy and prints a comparison.
        .executableTarget(
            name: "PrefixRouterBench",
            dependencies: [
                "PrefixRouter",
                "_FleetSimulation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PrefixRouterTests",
            dependencies: ["PrefixRouter"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FleetSimulationTests",
            dependencies: ["_FleetSimulation", "PrefixRouter"],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
