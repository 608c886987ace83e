public import Benchmark

/// The configuration every PrefixRouter benchmark starts from.
///
/// Each sample runs `scaledIterations` (1,000) operations, so wall clock and throughput are per operation and
/// the malloc count is per 1,000 operations (pass `--scale` to see the raw per-sample counts): a steady-state
/// allocation anywhere on a path shows up as ≥ 1 in the raw figure even when the per-operation figure rounds
/// to 0.
public enum BenchmarkDefaults {
    /// Wall clock, throughput and malloc counts: the figures the benchmarks issue asks for (instruction
    /// counters are not available on these VMs; reference counts are unreliable with this toolchain).
    public static var metrics: [BenchmarkMetric] { [.wallClock, .throughput, .mallocCountTotal] }

    /// No tolerance on the malloc count: `benchmark thresholds check` compares the p90 with the stored
    /// threshold (Benchmarks/Thresholds) and reports any difference as a regression (or an improvement).
    public static var exactAllocations: [BenchmarkMetric: BenchmarkThresholds] {
        [.mallocCountTotal: .init(absolute: [.p25: 0, .p50: 0, .p75: 0, .p90: 0, .p99: 0, .p100: 0])]
    }

    /// The default configuration: the metrics above, 1,000 operations per sample, exact allocations.
    public static func configuration(
        warmupIterations: Int = 3,
        maxDuration: Duration = .seconds(1),
        thresholds: [BenchmarkMetric: BenchmarkThresholds] = exactAllocations
    ) -> Benchmark.Configuration {
        .init(
            metrics: metrics,
            warmupIterations: warmupIterations,
            scalingFactor: .kilo,
            maxDuration: maxDuration,
            maxIterations: .kilo(10),
            thresholds: thresholds
        )
    }
}
