/// A snapshot of a ``MockEngine``'s counters and of what it last received, for tests.
public struct MockEngineStats: Sendable {
    /// Inference requests received (`/v1/chat/completions` and `/v1/completions`), whatever became of them.
    public var requestsReceived: Int
    /// Inference requests answered in full.
    public var requestsCompleted: Int
    /// Inference requests whose client went away before the answer was complete.
    public var requestsCancelled: Int
    /// Inference requests answered with an error status, or cut or ended by a fault.
    public var requestsFailed: Int
    /// Sequences holding a running slot (prefilling or decoding): `vllm:num_requests_running`.
    public var running: Int
    /// Sequences waiting for a running slot: `vllm:num_requests_waiting`.
    public var waiting: Int
    /// Prompt tokens looked up in the prefix cache: `vllm:prefix_cache_queries_total`.
    public var prefixCacheQueries: Int
    /// Prompt tokens found in the prefix cache: `vllm:prefix_cache_hits_total`.
    public var prefixCacheHits: Int
    /// Blocks currently in the prefix cache.
    public var cachedBlocks: Int
    /// The KV-cache blocks reserved by running sequences over ``MockEngineConfiguration/cacheBlocks``, 0...1.
    public var kvCacheUsage: Double
    /// Whether `/health` answers 200.
    public var healthy: Bool
    /// The latest inference requests, oldest first, at most ``MockEngineConfiguration/requestHistory``.
    public var recentRequests: [MockRequestRecord]
    /// Arrival numbers (``MockRequestRecord/sequence``) in the order the requests got a running slot,
    /// at most the latest 1,000.
    public var admissionOrder: [Int]

    /// The latest inference request received, if any.
    public var lastRequest: MockRequestRecord? { recentRequests.last }

    /// Creates a snapshot; the engine makes these, tests rarely need to.
    public init(
        requestsReceived: Int = 0,
        requestsCompleted: Int = 0,
        requestsCancelled: Int = 0,
        requestsFailed: Int = 0,
        running: Int = 0,
        waiting: Int = 0,
        prefixCacheQueries: Int = 0,
        prefixCacheHits: Int = 0,
        cachedBlocks: Int = 0,
        kvCacheUsage: Double = 0,
        healthy: Bool = true,
        recentRequests: [MockRequestRecord] = [],
        admissionOrder: [Int] = []
    ) {
        self.requestsReceived = requestsReceived
        self.requestsCompleted = requestsCompleted
        self.requestsCancelled = requestsCancelled
        self.requestsFailed = requestsFailed
        self.running = running
        self.waiting = waiting
        self.prefixCacheQueries = prefixCacheQueries
        self.prefixCacheHits = prefixCacheHits
        self.cachedBlocks = cachedBlocks
        self.kvCacheUsage = kvCacheUsage
        self.healthy = healthy
        self.recentRequests = recentRequests
        self.admissionOrder = admissionOrder
    }
}
