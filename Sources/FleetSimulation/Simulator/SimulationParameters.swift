public import PrefixRouter

/// The simulated fleet: replica count, KV cache size, service rates, load bound, replay speed.
///
/// Defaults describe Llama-3-8B in fp16 on one 80 GB A100 per replica (vLLM's KV-cache sizing: `gpu_memory_utilization` 0.9):
/// - **KV cache** ``kvCacheTokens`` = 420,000 tokens: 80 GB × 0.9 utilisation − 16 GB of weights ≈ 55 GB;
///   at 2 (K,V) × 32 layers × 8 KV heads × 128 dims × 2 bytes = 128 KiB per token that is ≈ 420k tokens
///   (820 blocks of 512 tokens, 26,250 blocks of 16).
/// - **Prefill** ``prefillTokensPerSecond`` = 10,000: 2 × 8 B = 16 GFLOP per token; 312 TFLOP/s dense fp16
///   at ≈ 50% utilisation ≈ 9,750 tokens/s, rounded. Plus ``prefillOverheadSeconds`` = 10 ms per step
///   (scheduling, kernel launches, sampling).
/// - **Decode** step = ``decodeStepSeconds`` + ``decodeSecondsPerContextToken`` × (context tokens of the
///   running batch): a step reads the weights once (16 GB at 2.0 TB/s ≈ 8 ms) plus each running sequence's
///   KV (128 KiB per token at 2.0 TB/s ≈ 64 ns per token), so it grows with the batch.
/// - **Batching** (chunked prefill, as vLLM V1 always does): at most ``maxRunningRequests`` = 256 running
///   sequences (vLLM's `max_num_seqs`); each step has a budget of ``prefillBatchTokens`` = 8,192 tokens
///   (vLLM's `max_num_batched_tokens`): one per decoding sequence, the rest to prefill chunks, first for the
///   requests already prefilling, then for newly admitted ones in FIFO order. A 100k-token prompt is
///   prefilled over 13 steps while the replica's decodes keep advancing. KV memory admits a request only when
///   its blocks fit beside those of the running ones; its blocks become hits for others as its chunks are
///   computed.
/// - **Fleet**: 8 replicas. The Mooncake conversation trace brings 3.4 req/s × 12,035 tokens ≈ 41k prompt
///   tokens/s; 8 × 10k tokens/s of prefill makes the fleet busy (≈ 50% prefill utilisation without cache
///   hits) but not saturated at speed-up 1. Raise ``speedup`` to load it further.
public struct SimulationParameters: Hashable, Sendable, Codable {
    /// Number of replicas.
    public var replicas: Int = 8
    /// KV cache capacity per replica in tokens (used when ``cacheBlocks`` is nil).
    public var kvCacheTokens: Int = 420_000
    /// KV cache capacity per replica in blocks of the trace's block size; nil derives it from
    /// ``kvCacheTokens``; 0 means unbounded.
    public var cacheBlocks: Int?
    /// Prefill throughput per replica, tokens per second, paid for uncached prompt tokens only.
    public var prefillTokensPerSecond: Double = 10_000
    /// Fixed cost of a step that prefills, in seconds.
    public var prefillOverheadSeconds: Double = 0.010
    /// Fixed cost of a decode step, in seconds.
    public var decodeStepSeconds: Double = 0.008
    /// Decode step cost per context token of the running batch, in seconds.
    public var decodeSecondsPerContextToken: Double = 64e-9
    /// Largest running batch per replica.
    public var maxRunningRequests: Int = 256
    /// Largest number of uncached tokens prefilled in one step (the first request of a step is always taken).
    public var prefillBatchTokens: Int = 8_192
    /// Bounded-load factor `c` of every router.
    public var loadFactor: Double = 1.25
    /// Ring points per replica.
    public var virtualNodes: Int = 160
    /// The bounded-load capacity floor of every router (``FleetConfiguration/minimumCapacity``).
    public var minimumCapacity: Int = 1
    /// Key depth in tokens of the `prefix-affinity` and `consistent-hash` lines (the library default, 2,048).
    public var keyDepthTokens: Int = 2_048
    /// At each first token, report the tokens the engine found cached at admission to the router that placed
    /// the request (``PrefixRouter/RoutingFeedback/cachedTokens(_:blockHashes:blockSize:replica:)``, OpenAI's
    /// `cached_tokens`).
    public var reportsCachedTokens: Bool = false
    /// When set, each request that completes with a time to first token of at most this many seconds
    /// (`.infinity`: every request) is reported again to the router that placed it, as a
    /// ``PrefixRouter/RoutingFeedback/placement(blockHashes:replica:)`` (what a gateway can do with the existing
    /// API when a response ends): an index then ages a prefix from the end of its request, as the engine's LRU
    /// does, rather than from its routing. The TTFT limit skips requests that queued long (an overloaded
    /// engine evicts released blocks quickly, and refreshing them there over-estimates its cache). nil: off.
    public var placementAtReleaseMaxTTFT: Double?
    /// Keep one ``RequestRecord`` per request in each result (``StrategyResult/requests``). Memory: about 80
    /// bytes per request and strategy.
    public var recordsRequests: Bool = false
    /// Arrival times are divided by this.
    public var speedup: Double = 1
    /// Seed of every strategy's random choices.
    public var seed: UInt64 = 1
    /// Remove one replica at 40% of the trace's span and add it back at 60%, measuring keys moved.
    public var churn: Bool = false
    /// Measure routing cost (ns per route call). Wall-clock: excluded from the deterministic output when off.
    public var measureRoutingCost: Bool = true
    /// Independent routers (gateways), each knowing only its own decisions. 1...64.
    public var gateways: Int = 1
    /// How requests are spread over the gateways when ``gateways`` > 1.
    public var gatewayAssignment: GatewayAssignment = .perRequest
    /// When set, every routing decision reaches the other gateways' strategies this many seconds later as a
    /// ``PrefixRouter/RoutingFeedback/placement(blockHashes:replica:)`` (decision sharing); nil shares nothing.
    /// Must be positive: a real transport is never instantaneous.
    public var syncDelaySeconds: Double?
    /// Simulated seconds between two scrapes of every engine's metrics (waiting requests, running requests,
    /// KV-cache usage), fed to every router as ``PrefixRouter/RoutingFeedback/engineMetrics(_:replica:)``.
    /// Default 0.05 (llm-d's scrape interval).
    public var metricsIntervalSeconds: Double = 0.05

    /// How a multi-gateway run assigns requests to gateways.
    public enum GatewayAssignment: String, Hashable, Sendable, Codable, CaseIterable {
        /// Each request to a gateway drawn at random (seeded): a load balancer without connection reuse.
        case perRequest = "request"
        /// Every request of a session to the same gateway (the session key, else the conversation's first block
        /// past the shared preamble): a load balancer with keep-alive connections per client.
        case perSession = "session"
    }

    /// The defaults above.
    public init() {}

    /// The router configuration the flags describe (`--load-factor`, `--vnodes`, `--min-capacity`).
    public var fleetConfiguration: FleetConfiguration {
        FleetConfiguration(
            loadFactor: loadFactor,
            virtualNodesPerWeight: virtualNodes,
            minimumCapacity: minimumCapacity
        )
    }

    /// The cache capacity in blocks for a trace of `blockSize` tokens per block (`Int.max` when unbounded).
    public func cacheCapacity(blockSize: Int) -> Int {
        if let cacheBlocks { return cacheBlocks == 0 ? Int.max : cacheBlocks }
        return max(1, kvCacheTokens / max(1, blockSize))
    }

    /// Throws a message naming the first invalid parameter.
    public func validate() throws(SimulationError) {
        func check(_ ok: Bool, _ name: String, _ expected: String, _ found: Any) throws(SimulationError) {
            guard ok else { throw SimulationError("\(name): expected \(expected), found \(found)") }
        }
        try check((1...10_000).contains(replicas), "--replicas", "1...10000", replicas)
        try check(kvCacheTokens >= 1, "--kv-cache-tokens", "at least 1", kvCacheTokens)
        try check((cacheBlocks ?? 0) >= 0, "--cache-blocks", "0 (unbounded) or more", cacheBlocks ?? 0)
        try check(
            prefillTokensPerSecond > 0 && prefillTokensPerSecond.isFinite,
            "--prefill-rate",
            "a positive number",
            prefillTokensPerSecond
        )
        try check(
            prefillOverheadSeconds >= 0 && prefillOverheadSeconds.isFinite,
            "--prefill-overhead-ms",
            "a non-negative number",
            prefillOverheadSeconds
        )
        try check(
            decodeStepSeconds > 0 && decodeStepSeconds.isFinite,
            "--decode-step-ms",
            "a positive number",
            decodeStepSeconds
        )
        try check(
            decodeSecondsPerContextToken >= 0 && decodeSecondsPerContextToken.isFinite,
            "--decode-ns-per-token",
            "a non-negative number",
            decodeSecondsPerContextToken
        )
        try check(maxRunningRequests >= 1, "--max-batch", "at least 1", maxRunningRequests)
        try check(prefillBatchTokens >= 1, "--prefill-batch-tokens", "at least 1", prefillBatchTokens)
        try check((1...1_000_000).contains(minimumCapacity), "--min-capacity", "1...1000000", minimumCapacity)
        try check(keyDepthTokens >= 1, "--key-depth", "at least 1 token", keyDepthTokens)
        try check(loadFactor > 1 && loadFactor.isFinite, "--load-factor", "a finite number above 1", loadFactor)
        try check((1...10_000).contains(virtualNodes), "--vnodes", "1...10000", virtualNodes)
        try check(speedup > 0 && speedup.isFinite, "--speedup", "a positive number", speedup)
        try check((1...64).contains(gateways), "--gateways", "1...64", gateways)
        if let placementAtReleaseMaxTTFT {
            try check(
                placementAtReleaseMaxTTFT >= 0 && !placementAtReleaseMaxTTFT.isNaN,
                "--placement-at-release",
                "a non-negative number of seconds (inf: always)",
                placementAtReleaseMaxTTFT
            )
        }
        if let syncDelaySeconds {
            try check(
                syncDelaySeconds > 0 && syncDelaySeconds.isFinite,
                "--sync-delay-ms",
                "a positive number of milliseconds (sharing is never instantaneous)",
                syncDelaySeconds * 1000
            )
        }
        try check(
            metricsIntervalSeconds > 0 && metricsIntervalSeconds.isFinite,
            "--metrics-interval-ms",
            "a positive number",
            metricsIntervalSeconds * 1000
        )
    }
}

/// An invalid simulation parameter or a strategy that cannot be built.
public struct SimulationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was wrong.
    public var message: String
    /// Creates the error.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
