// swift-tools-version: 6.1
// libFuzzer harness for the bench's trace line parsers. Its own package so that the main build never needs
// the fuzzer runtime. Run with ../scripts/fuzz-parsers.
import PackageDescription

let package = Package(
    name: "FuzzTraceParsers",
    dependencies: [.package(name: "PrefixRouter", path: "../")],
    targets: [
        .executableTarget(
            name: "FuzzTraceParsers",
            dependencies: [.product(name: "_FleetSimulation", package: "PrefixRouter")],
            // The sanitizer flags come from the command line (scripts/fuzz-parsers) so that they instrument
            // the parsers in FleetSimulation too, not just this harness.
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    ],
    swiftLanguageModes: [.v6]
)
