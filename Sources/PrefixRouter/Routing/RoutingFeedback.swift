/// What a strategy can learn from outside the request path, fed through ``FleetControl/observe(_:)``.
///
/// A strategy receives it in ``RoutingStrategy/observe(_:in:)`` under the router's lock, with the fleet, and
/// may update its own state (an index, per-replica signals). Strategies that do not use a kind of feedback
/// ignore it. New kinds may be added: `switch` over it with a `default` case.
public enum RoutingFeedback: Sendable {
    /// An engine's own load signals, as scraped from its metrics endpoint.
    case engineMetrics(EngineMetrics, replica: ReplicaID)
    /// An engine reported, for a request it served, how many of its prompt tokens it found in its prefix cache
    /// (OpenAI's `usage.prompt_tokens_details.cached_tokens`).
    case cachedTokens(Int, blockHashes: [BlockHash], blockSize: Int, replica: ReplicaID)
    /// Another router (another gateway process) placed a request with these blocks on `replica`: its prefix
    /// is probably cached there now.
    case placement(blockHashes: [BlockHash], replica: ReplicaID)
}

/// Load signals an inference engine exports (vLLM's `vllm:num_requests_waiting`,
/// `vllm:num_requests_running` and `vllm:kv_cache_usage_perc`; SGLang's equivalents). Each is optional:
/// engines and versions differ in what they expose.
public struct EngineMetrics: Hashable, Sendable {
    /// Requests queued in the engine, not yet scheduled.
    public var waitingRequests: Int?
    /// Requests the engine is running (prefilling or decoding).
    public var runningRequests: Int?
    /// The fraction of the KV cache in use, 0...1.
    public var kvCacheUsage: Double?

    /// Creates a sample; values out of range are clamped (negative counts to 0, usage to 0...1, a non-finite
    /// usage to nil).
    public init(waitingRequests: Int? = nil, runningRequests: Int? = nil, kvCacheUsage: Double? = nil) {
        self.waitingRequests = waitingRequests.map { Swift.max(0, $0) }
        self.runningRequests = runningRequests.map { Swift.max(0, $0) }
        self.kvCacheUsage = kvCacheUsage.flatMap { $0.isFinite ? Swift.min(1, Swift.max(0, $0)) : nil }
    }
}
