public import PrefixRouter

/// The strategies the bench compares, by name. Adding one is one line in ``all``.
public enum StrategyCatalog {
    /// What a strategy factory may know about the run: the seed, and the simulated engines' cache size (so
    /// that an approximate index can be sized like the cache it approximates, as a gateway operator would).
    public struct Context: Sendable {
        /// The run's seed.
        public var seed: UInt64
        /// Each replica's KV cache in blocks of the trace's block size (capped to what a ``PrefixIndex``
        /// accepts when the simulated cache is unbounded).
        public var cacheBlocksPerReplica: Int
        /// The `--key-depth` of the run (tokens).
        public var keyDepthTokens: Int
        /// Leading blocks shared by every request of the workload (see
        /// ``SimulationInput/sharedLeadingBlocks``).
        public var sharedLeadingBlocks: Int
    }

    /// A named strategy that can run itself through the simulator.
    public struct Entry: Sendable {
        /// The name shown in tables and accepted by `--strategies`.
        public let name: String
        /// One line on what it does.
        public let summary: String
        /// The line's own ``SimulationParameters/placementAtReleaseMaxTTFT`` (the gateway reporting each
        /// request's blocks again at its end when its TTFT was at most this many seconds), used when the run
        /// sets none (`--placement-at-release` sets it for every line); nil: off.
        public let placementAtRelease: Double?
        let runner:
            @Sendable (SimulationInput, SimulationParameters, Oracle, ((Double) -> Void)?) throws -> StrategyResult

        /// Wraps a strategy factory. The factory receives the run's ``Context``; the simulator is specialised for `S`.
        ///
        /// - Parameters:
        ///   - placementAtRelease: the line's own placement-at-release limit in seconds (see
        ///     ``placementAtRelease``), part of a named configuration that a gateway applies; nil: off.
        ///   - configuration: adjusts the run's router configuration (`--load-factor`, `--vnodes`,
        ///     `--min-capacity`) for this strategy, e.g. a peer's own ring size and load factor.
        public init<S: RoutingStrategy>(
            _ name: String,
            _ summary: String,
            placementAtRelease: Double? = nil,
            configuration: (@Sendable (FleetConfiguration) -> FleetConfiguration)? = nil,
            _ make: @escaping @Sendable (Context) throws -> S
        ) {
            self.name = name
            self.summary = summary
            self.placementAtRelease = placementAtRelease
            self.runner = { input, parameters, oracle, progress in
                var parameters = parameters
                if parameters.placementAtReleaseMaxTTFT == nil {
                    parameters.placementAtReleaseMaxTTFT = placementAtRelease
                }
                let context = Context(
                    seed: parameters.seed,
                    cacheBlocksPerReplica: min(
                        parameters.cacheCapacity(blockSize: input.blockSize),
                        PrefixIndex.maximumCapacityPerReplica
                    ),
                    keyDepthTokens: parameters.keyDepthTokens,
                    sharedLeadingBlocks: input.sharedLeadingBlocks
                )
                // One strategy per gateway; gateway g's seed is the run's plus g (gateway 0 is the one-gateway run).
                let strategies = try (0..<max(1, parameters.gateways)).map { gateway in
                    var own = context
                    own.seed = context.seed &+ UInt64(gateway)
                    return try make(own)
                }
                return try FleetSimulator.run(
                    gateways: strategies,
                    name: name,
                    input: input,
                    parameters: parameters,
                    oracle: oracle,
                    configuration: configuration.map { $0(parameters.fleetConfiguration) },
                    progress: progress
                )
            }
        }

        /// Runs the strategy over `input`.
        public func run(
            input: SimulationInput,
            parameters: SimulationParameters,
            oracle: Oracle,
            progress: ((Double) -> Void)? = nil
        ) throws -> StrategyResult {
            try runner(input, parameters, oracle, progress)
        }
    }

    /// Every strategy, in table order: load-only baselines, key-based baselines, this library's strategies,
    /// peers' policies.
    public static let all: [Entry] = [
        Entry("round-robin", "cycle through the replicas") { _ in RoundRobin() },
        Entry("random", "uniformly random replica") { RandomChoice(seed: $0.seed) },
        Entry("least-outstanding", "fewest in-flight requests, random ties") { LeastOutstanding(seed: $0.seed) },
        Entry("power-of-two", "less loaded of two random replicas") { PowerOfTwoChoices(seed: $0.seed) },
        Entry("consistent-hash", "ring owner of the prefix key (--key-depth), no load bound") {
            try PlainConsistentHash(keyDepthTokens: $0.keyDepthTokens, fallback: LeastOutstanding(seed: $0.seed))
        },
        Entry("sticky", "session ring with bounded loads; no session → least outstanding") {
            Sticky(fallback: LeastOutstanding(seed: $0.seed))
        },
        Entry("prefix-affinity", "library default for many gateways: bounded-load ring on the prefix key (--key-depth)")
        {
            try PrefixAffinity(keyDepthTokens: $0.keyDepthTokens, fallback: LeastOutstanding(seed: $0.seed))
        },
        Entry(
            "prefix-affinity-work",
            "prefix-affinity bounded in pending prefill tokens (c x the fleet's pending work), not in requests"
        ) {
            try PrefixAffinity(
                keyDepthTokens: $0.keyDepthTokens,
                loadMeasure: .pendingPrefillTokens,
                fallback: LeastOutstanding(seed: $0.seed)
            )
        },
        Entry(
            "recommended",
            "one gateway (the gateway's estimated-ttft-single): EstimatedTTFT, least backlog + (1 + 24) x uncached "
                + "/ rate + 4 ms x outstanding over every replica; cap c = 5; index = cache; own backlog only; each "
                + "request's blocks reported again at its end when its TTFT was <= 30 s (the gateway's "
                + "routing.placementAtReleaseSeconds default for estimated-ttft-single)",
            placementAtRelease: recommendedPlacementAtRelease
        ) { try recommendedOneGateway($0) },
        Entry(
            "recommended-no-release",
            "recommended without the report at each request's end (the former recommended: placement at routing only)"
        ) { try recommendedOneGateway($0) },
        Entry("recommended-l16", "the former recommended: lambda = 16, 2 ms x outstanding, cap c = 4, index = cache") {
            try recommended(
                $0,
                candidates: .all,
                scatterCharge: 16,
                usesEngineMetrics: false,
                decodeSecondsPerRequest: 0.002
            )
        },
        Entry("recommended-l8", "the former recommended: lambda = 8, no decode term") {
            try recommended($0, candidates: .all, usesEngineMetrics: false)
        },
        Entry(
            "recommended-multi",
            "several gateways (the gateway's default, estimated-ttft): EstimatedTTFT between the two hash-chosen "
                + "replicas of the prefix key (--key-depth); engines' waiting queues raise the backlog; no release"
        ) {
            try EstimatedTTFT.recommendedMultiGateway(
                capacityPerReplica: $0.cacheBlocksPerReplica,
                keyDepthTokens: $0.keyDepthTokens,
                fallback: LeastOutstanding(seed: $0.seed),
                seed: $0.seed
            )
        },
        Entry(
            "ring-preferred",
            "EstimatedTTFT over every replica, the key's two ring replicas credited with the key (spill in work)"
        ) { try recommended($0, candidates: .ringPreferred(keyDepthTokens: $0.keyDepthTokens)) },
        Entry("estimated-ttft-l0", "as recommended-l8 with no scatter charge (lambda = 0): Conductor's rule") {
            try recommended($0, candidates: .all, scatterCharge: 0, usesEngineMetrics: false)
        },
        Entry(
            "prefix-affinity-floor-8",
            "prefix-affinity with a capacity floor of 8 requests per replica (the former multi-gateway default)",
            configuration: { configuration in
                var configuration = configuration
                configuration.minimumCapacity = max(configuration.minimumCapacity, 8)
                return configuration
            },
            { try PrefixAffinity(keyDepthTokens: $0.keyDepthTokens, fallback: LeastOutstanding(seed: $0.seed)) }
        ),
        Entry("prefix-affinity-512", "as prefix-affinity, key on the first 512 tokens") {
            try PrefixAffinity(keyDepthTokens: 512, fallback: LeastOutstanding(seed: $0.seed))
        },
        Entry("prefix-affinity-8k", "as prefix-affinity, key on the first 8,192 tokens") {
            try PrefixAffinity(keyDepthTokens: 8_192, fallback: LeastOutstanding(seed: $0.seed))
        },
        Entry("cache-aware", "library CacheAware: prefix x3 + load x2, cap at c = 2; index sized to the cache") {
            try CacheAware(
                capacityPerReplica: $0.cacheBlocksPerReplica,
                fallback: LeastOutstanding(seed: $0.seed),
                seed: $0.seed
            )
        },
        // Peers' policies, re-implemented from their published rules (FleetSimulation/Baselines).
        Entry("sglang-cache-aware", "SGLang/SMG cache_aware: thresholds 0.3, 64, 1.5; tree cap 2^26 chars") { _ in
            try SGLangCacheAware()
        },
        Entry(
            "llm-d",
            "llm-d default profile: prefix x3 + waiting queue x2 + (1 - KV usage) x2 from engine metrics; "
                + "per-pod LRU sized to the pod cache, blocks in prompt order"
        ) {
            try LLMDScorer(capacityPerPod: $0.cacheBlocksPerReplica, seed: $0.seed)
        },
        Entry(
            "llm-d-router-counts",
            "the older llm-d stand-in: prefix x3 + router in-flight counts x2 (no engine metrics)"
        ) {
            try LLMDScorer(capacityPerPod: $0.cacheBlocksPerReplica, signals: .routerCounts, seed: $0.seed)
        },
        Entry(
            "kubeai-chwbl",
            "KubeAI CHWBL (PR #528 rule): key past the shared preamble (first user message), 1.25, 256 vnodes",
            configuration: { _ in KubeAICHWBL.fleetConfiguration },
            { try KubeAICHWBL(skippedLeadingBlocks: $0.sharedLeadingBlocks) }
        ),
        Entry(
            "kubeai-first-block",
            "KubeAI CHWBL (PR #528 rule) keyed on the first block (collapses when every prompt shares it)",
            configuration: { _ in KubeAICHWBL.fleetConfiguration },
            { _ in try KubeAICHWBL() }
        ),
    ]

    /// The `recommended` line's placement-at-release limit: 30 s, the gateway's default
    /// `routing.placementAtReleaseSeconds` for `estimated-ttft-single` (off for `estimated-ttft`, as in
    /// `recommended-multi`). RESULTS.md, issue 10, third pass (table 5) and fourth pass.
    public static let recommendedPlacementAtRelease: Double = 30

    /// The one-gateway strategy of `recommended` and `recommended-no-release`:
    /// ``PrefixRouter/EstimatedTTFT/recommendedSingleGateway(capacityPerReplica:fallback:seed:)`` (every replica as
    /// candidate, λ = 24, δ = 4 ms, c = 5, own backlog only), the index sized like the cache: the gateway's
    /// `estimated-ttft-single` builds the same.
    static func recommendedOneGateway(_ context: Context) throws -> EstimatedTTFT<LeastOutstanding> {
        try EstimatedTTFT.recommendedSingleGateway(
            capacityPerReplica: Swift.max(1, context.cacheBlocksPerReplica),
            fallback: LeastOutstanding(seed: context.seed),
            seed: context.seed
        )
    }

    /// The recommended configurations: ``PrefixRouter/EstimatedTTFT`` with λ = 8, the index sized like the
    /// engines' caches, the safety net at c = 4 (for one gateway: λ = 24, a decode charge of 4 ms per outstanding
    /// request and c = 5, and placement at release at 30 s on the `recommended` entry; RESULTS.md, issue 10
    /// remedies and fourth pass). Engine metrics only where
    /// a gateway's own backlog is partial (several gateways): behind one gateway the own backlog is exact, and a
    /// 50 ms-old waiting count only adds staleness (TTFT p99 0.54 s against 0.73 s on the built-in workload).
    static func recommended(
        _ context: Context,
        candidates: EstimatedTTFT<LeastOutstanding>.Candidates,
        scatterCharge: Double = 8,
        usesEngineMetrics: Bool = true,
        decodeSecondsPerRequest: Double = 0,
        loadFactor: Double? = 4,
        indexScale: Double = 1,
        temperature: Double? = nil,
        correctsIndexFromCachedTokens: Bool = false
    ) throws -> EstimatedTTFT<LeastOutstanding> {
        let blocks = Double(context.cacheBlocksPerReplica) * indexScale
        return try EstimatedTTFT(
            capacityPerReplica: Int(Swift.min(Swift.max(1, blocks), Double(PrefixIndex.maximumCapacityPerReplica))),
            scatterCharge: scatterCharge,
            temperature: temperature,
            candidates: candidates,
            loadFactor: loadFactor,
            usesEngineMetrics: usesEngineMetrics,
            decodeSecondsPerRequest: decodeSecondsPerRequest,
            correctsIndexFromCachedTokens: correctsIndexFromCachedTokens,
            fallback: LeastOutstanding(seed: context.seed),
            seed: context.seed
        )
    }

    /// The entry named `name`, or the ``variant(named:)`` it describes, or nil.
    public static func entry(named name: String) -> Entry? { all.first { $0.name == name } ?? variant(named: name) }
}
