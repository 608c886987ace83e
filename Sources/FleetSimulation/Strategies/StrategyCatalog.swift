public import PrefixRouter

/// The strategies the bench compares, by name. Adding one is one line in ``all``.
public enum StrategyCatalog {
    /// A named strategy that can run itself through the simulator.
    public struct Entry: Sendable {
        /// The name shown in tables and accepted by `--strategies`.
        public let name: String
        /// One line on what it does.
        public let summary: String
        let runner: @Sendable (SimulationInput, SimulationParameters, Oracle, ((Double) -> Void)?) throws -> StrategyResult

        /// Wraps a strategy factory. The factory receives the run's seed; the simulator is specialised for `S`.
        public init<S: RoutingStrategy>(
            _ name: String, _ summary: String, _ make: @escaping @Sendable (UInt64) throws -> S
        ) {
            self.name = name
            self.summary = summary
            self.runner = { input, parameters, oracle, progress in
                try FleetSimulator.run(
                    make(parameters.seed), name: name, input: input, parameters: parameters, oracle: oracle,
                    progress: progress)
            }
        }

        /// Runs the strategy over `input`.
        public func run(
            input: SimulationInput, parameters: SimulationParameters, oracle: Oracle,
            progress: ((Double) -> Void)? = nil
        ) throws -> StrategyResult {
            try runner(input, parameters, oracle, progress)
        }
    }

    /// Every strategy, in table order: load-only baselines, key-based baselines, this library's strategies,
    /// peers' policies.
    public static let all: [Entry] = [
        Entry("round-robin", "cycle through the replicas") { _ in RoundRobin() },
        Entry("random", "uniformly random replica") { RandomChoice(seed: $0) },
        Entry("least-outstanding", "fewest in-flight requests, random ties") { LeastOutstanding(seed: $0) },
        Entry("power-of-two", "less loaded of two random replicas") { PowerOfTwoChoices(seed: $0) },
        Entry("consistent-hash", "ring owner of the 2,048-token prefix key, no load bound") {
            try UnboundedConsistentHash(keyDepthTokens: 2_048, fallback: LeastOutstanding(seed: $0))
        },
        Entry("sticky", "session ring with bounded loads; no session → least outstanding") {
            Sticky(fallback: LeastOutstanding(seed: $0))
        },
        Entry("prefix-affinity", "library default: bounded-load ring on the 2,048-token prefix key") {
            try PrefixAffinity(fallback: LeastOutstanding(seed: $0))
        },
        Entry("prefix-affinity-512", "as prefix-affinity, key on the first 512 tokens") {
            try PrefixAffinity(keyDepthTokens: 512, fallback: LeastOutstanding(seed: $0))
        },
        Entry("prefix-affinity-8k", "as prefix-affinity, key on the first 8,192 tokens") {
            try PrefixAffinity(keyDepthTokens: 8_192, fallback: LeastOutstanding(seed: $0))
        },
        // Peers' policies (FleetSimulation/Baselines, branch `index`): the lead adds one line each here, e.g.
        // Entry("sglang-cache-aware", "…") { SGLangCacheAware(seed: $0) },
        // Entry("llm-d", "…") { LLMDScorer(seed: $0) },
        // Entry("kubeai-chwbl", "…") { KubeAICHWBL() },
    ]

    /// The entry named `name`, or nil.
    public static func entry(named name: String) -> Entry? { all.first { $0.name == name } }
}
