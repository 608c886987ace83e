import Foundation

/// Everything one bench run produced: the workload, every parameter, the oracle and each strategy's figures.
/// Encoded as the `--json` output (sorted keys, so the same run gives the same bytes).
public struct RunReport: Hashable, Sendable, Codable {
    /// What was replayed.
    public struct Workload: Hashable, Sendable, Codable {
        /// The trace file, or `synthetic`.
        public var source: String
        /// Its format.
        public var format: TraceFormat
        /// Requests replayed.
        public var requests: Int
        /// Whether requests carry prefix hashes (false: load-only comparison, nobody can hit the cache).
        public var hasPrefixInfo: Bool
        /// Tokens per cache block.
        public var blockSize: Int
        /// Cache capacity per replica in blocks; nil when unbounded.
        public var cacheBlocks: Int?
        /// Invalid lines skipped with `--skip-invalid`.
        public var skippedLines: Int
        /// The first few skipped lines' errors.
        public var skippedExamples: [String]
        /// The synthetic generator's parameters, for the built-in workload.
        public var synthetic: SyntheticWorkload?
        /// How the trace file was read, for a file.
        public var readOptions: TraceReadOptions?
        /// Seconds from the first to the last arrival after the speed-up.
        public var spanSeconds: Double
    }

    /// What was replayed.
    public var workload: Workload
    /// The simulated fleet.
    public var parameters: SimulationParameters
    /// The hit-rate upper bound.
    public var oracle: Oracle
    /// The pooled-LRU and clairvoyant cache bounds and the TTFT floor (computed without timing).
    public var references: ReferenceLines
    /// One entry per strategy, in table order.
    public var strategies: [StrategyResult]

    /// Creates a report.
    public init(
        workload: Workload,
        parameters: SimulationParameters,
        oracle: Oracle,
        references: ReferenceLines,
        strategies: [StrategyResult]
    ) {
        self.workload = workload
        self.parameters = parameters
        self.oracle = oracle
        self.references = references
        self.strategies = strategies
    }

    /// Pretty-printed JSON with sorted keys: byte-identical for identical runs (with routing cost off).
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }
}
