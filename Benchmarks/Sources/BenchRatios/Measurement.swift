/// A case measured by ``RatioRun``: runs its operation `count` times and returns a value derived from every
/// result, so that the optimiser cannot drop the work.
struct Workload {
    let name: String
    let run: (_ count: Int) -> UInt64
}

/// Interleaved timing of several workloads in one process: each round times one batch of every workload, so
/// that machine noise (other jobs on the 2 cores, frequency changes) hits all of them alike, and ratios are
/// taken per round before the median.
struct RatioRun {
    let workloads: [Workload]
    /// Operations per batch, calibrated so that a batch takes about ``targetBatch``.
    private(set) var batchSizes: [Int] = []
    /// Nanoseconds per operation, per workload, per round.
    private(set) var samples: [[Double]] = []
    private(set) var sink: UInt64 = 0

    static let targetBatch = Duration.microseconds(200)

    init(_ workloads: [Workload]) { self.workloads = workloads }

    mutating func calibrate(fixedBatch: Int? = nil) {
        batchSizes = workloads.map { workload in
            if let fixedBatch { return fixedBatch }
            var count = 1
            while true {
                let elapsed = time(workload, count)
                if elapsed >= Self.targetBatch || count >= 1 << 24 { return count }
                count *= 2
            }
        }
    }

    mutating func run(rounds: Int) {
        samples = Array(repeating: [], count: workloads.count)
        for _ in 0..<rounds {
            for (position, workload) in workloads.enumerated() {
                let count = batchSizes[position]
                samples[position].append(nanoseconds(time(workload, count)) / Double(count))
            }
        }
    }

    private mutating func time(_ workload: Workload, _ count: Int) -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        sink ^= workload.run(count)
        return clock.now - start
    }

    /// Nanoseconds per operation of the workload named `name`: median over the rounds.
    func median(_ name: String) -> Double { Statistics.quantile(samplesOf(name), 0.5) }

    func samplesOf(_ name: String) -> [Double] {
        guard let position = workloads.firstIndex(where: { $0.name == name }) else { return [] }
        return samples[position]
    }

    /// The per-round ratio `numerator ÷ denominator` (time per operation), as median and interquartile range.
    func ratio(_ numerator: String, over denominator: String) -> Statistics.Summary {
        let ratios = zip(samplesOf(numerator), samplesOf(denominator)).map { $0 / $1 }
        return Statistics.Summary(ratios)
    }
}

func nanoseconds(_ duration: Duration) -> Double {
    let (seconds, attoseconds) = duration.components
    return Double(seconds) * 1e9 + Double(attoseconds) / 1e9
}

enum Statistics {
    /// The `q` quantile (0...1) by linear interpolation; 0 for no values.
    static func quantile(_ values: [Double], _ q: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let position = q * Double(sorted.count - 1)
        let low = Int(position.rounded(.down))
        let high = Int(position.rounded(.up))
        return sorted[low] + (sorted[high] - sorted[low]) * (position - Double(low))
    }

    struct Summary {
        let median: Double, p25: Double, p75: Double
        init(_ values: [Double]) {
            median = quantile(values, 0.5)
            p25 = quantile(values, 0.25)
            p75 = quantile(values, 0.75)
        }
    }
}
