// swift-tools-version: 6.1
import PackageDescription

/// The PrefixRouter benchmarks: their own package, so that library users and library CI never resolve
/// package-benchmark. Run from the repository root:
///
///     swift package --package-path Benchmarks benchmark            # every benchmark
///     scripts/bench-ratios                                          # the three target ratios
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// A package-benchmark executable at `Benchmarks/<name>/<name>.swift`.
func benchmarkTarget(_ name: String) -> Target {
    .executableTarget(
        name: name,
        dependencies: [
            "BenchmarkFixtures",
            "BenchmarkSupport",
            .product(name: "PrefixRouter", package: "PrefixRouter"),
            .product(name: "Benchmark", package: "benchmark"),
        ],
        path: "Benchmarks/\(name)",
        swiftSettings: swiftSettings,
        plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    )
}

let package = Package(
    name: "PrefixRouterBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // Named explicitly: CI clones the repository into a folder of another name.
        .package(name: "PrefixRouter", path: "../"),
        // The trait is required on Linux with this toolchain (it also leaves out the runtime interposer).
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
    ],
    targets: [
        // Fleets, prompts and prehashed requests shared by the benchmarks and the ratio tool.
        .target(
            name: "BenchmarkFixtures",
            dependencies: [.product(name: "PrefixRouter", package: "PrefixRouter")],
            swiftSettings: swiftSettings
        ),
        // The package-benchmark configuration and malloc thresholds the benchmark targets share.
        .target(
            name: "BenchmarkSupport",
            dependencies: [.product(name: "Benchmark", package: "benchmark")],
            swiftSettings: swiftSettings
        ),
        // Ring lookups and route + release for every strategy.
        benchmarkTarget("RoutingBenchmarks"),
        // Prompt hashing (chained and one-shot XXH3), text and chat hashing.
        benchmarkTarget("HashingBenchmarks"),
        // The approximate prefix index: insert, longest match and the fleet query.
        benchmarkTarget("PrefixIndexBenchmarks"),
        // libxxhash's XXH3 compiled inline (XXH_INLINE_ALL), to measure what inlining would change.
        .target(name: "CXXHashInline"),
        // The three target ratios of the benchmarks issue, measured interleaved in one process.
        .executableTarget(
            name: "BenchRatios",
            dependencies: [
                "BenchmarkFixtures",
                "CXXHashInline",
                .product(name: "PrefixRouter", package: "PrefixRouter"),
            ],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
