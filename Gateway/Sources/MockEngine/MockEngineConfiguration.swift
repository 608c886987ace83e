/// How a ``MockEngine`` listens, what it serves and how fast it works.
///
/// The defaults are fast (a 1,000-token prompt prefills in about 11 ms, tokens stream at 1,000 per second)
/// so that tests finish quickly; slow them down for demos and load tests.
public struct MockEngineConfiguration: Sendable {
    /// The address to bind; loopback by default.
    public var host: String
    /// The port to bind; 0 picks an ephemeral port, reported by ``MockEngine/start()``.
    public var port: Int
    /// The model names served; requests for any other model get a 404. The first one labels the metrics.
    public var models: [String]
    /// The size of a prefix-cache block, in UTF-8 bytes of the prompt (4 bytes count as one token).
    public var prefixBlockCharacters: Int
    /// The number of blocks the prefix cache keeps (least recently used ones are evicted);
    /// also the KV-cache capacity that `vllm:kv_cache_usage_perc` is relative to.
    public var cacheBlocks: Int
    /// The prefill speed: uncached prompt tokens per second, through one shared queue per engine.
    public var prefillTokensPerSecond: Double
    /// The fixed cost of every prefill, added to its token time.
    public var prefillOverhead: Duration
    /// The decode speed of each running sequence, in tokens per second.
    public var decodeTokensPerSecond: Double
    /// The most sequences running (prefilling or decoding) at once; the others wait, as in vLLM's `--max-num-seqs`.
    public var maxRunning: Int
    /// The number of tokens generated when a request gives neither `max_tokens` nor `max_completion_tokens`.
    public var defaultMaxTokens: Int
    /// The faults injected from the start; change them at run time with ``MockEngine/setFaults(_:)``.
    public var faults: MockEngineFaults
    /// How long ``MockEngine/stop()`` lets in-flight responses finish before it cancels them.
    public var shutdownGracePeriod: Duration
    /// How many of the latest requests ``MockEngineStats/recentRequests`` keeps (with their bodies).
    public var requestHistory: Int
    /// The largest request body accepted; larger ones get a 413.
    public var maxBodyBytes: Int

    /// Creates a configuration; every parameter has a default suitable for tests.
    public init(
        host: String = "127.0.0.1",
        port: Int = 0,
        models: [String] = ["mock-model"],
        prefixBlockCharacters: Int = 64,
        cacheBlocks: Int = 4_096,
        prefillTokensPerSecond: Double = 100_000,
        prefillOverhead: Duration = .milliseconds(1),
        decodeTokensPerSecond: Double = 1_000,
        maxRunning: Int = 256,
        defaultMaxTokens: Int = 16,
        faults: MockEngineFaults = MockEngineFaults(),
        shutdownGracePeriod: Duration = .seconds(2),
        requestHistory: Int = 100,
        maxBodyBytes: Int = 8 << 20
    ) {
        self.host = host
        self.port = port
        self.models = models
        self.prefixBlockCharacters = prefixBlockCharacters
        self.cacheBlocks = cacheBlocks
        self.prefillTokensPerSecond = prefillTokensPerSecond
        self.prefillOverhead = prefillOverhead
        self.decodeTokensPerSecond = decodeTokensPerSecond
        self.maxRunning = maxRunning
        self.defaultMaxTokens = defaultMaxTokens
        self.faults = faults
        self.shutdownGracePeriod = shutdownGracePeriod
        self.requestHistory = requestHistory
        self.maxBodyBytes = maxBodyBytes
    }

    /// Checks every field; ``MockEngine/start()`` calls it.
    ///
    /// - Throws: ``MockEngineError/invalidConfiguration(_:)`` naming the first bad field.
    public func validate() throws {
        func check(_ condition: Bool, _ message: String) throws {
            if !condition { throw MockEngineError.invalidConfiguration(message) }
        }
        try check((0...65_535).contains(port), "port must be in 0...65535")
        try check(
            !models.isEmpty && models.allSatisfy { !$0.isEmpty },
            "models must name at least one model, none empty"
        )
        try check(prefixBlockCharacters >= 4, "prefixBlockCharacters must be at least 4 (one token)")
        try check(cacheBlocks >= 0, "cacheBlocks must not be negative")
        try check(
            prefillTokensPerSecond > 0 && prefillTokensPerSecond.isFinite,
            "prefillTokensPerSecond must be positive"
        )
        try check(prefillOverhead >= .zero, "prefillOverhead must not be negative")
        try check(decodeTokensPerSecond > 0 && decodeTokensPerSecond.isFinite, "decodeTokensPerSecond must be positive")
        try check(maxRunning >= 1, "maxRunning must be at least 1")
        try check(defaultMaxTokens >= 1, "defaultMaxTokens must be at least 1")
        try check(shutdownGracePeriod >= .zero, "shutdownGracePeriod must not be negative")
        try check(requestHistory >= 0, "requestHistory must not be negative")
        try check(maxBodyBytes >= 1, "maxBodyBytes must be positive")
        try faults.validate()
    }
}
