/// The figures of one strategy over one trace.
public struct StrategyResult: Hashable, Sendable, Codable {
    /// The strategy's catalog name.
    public var strategy: String
    /// Requests that arrived.
    public var arrived: Int
    /// Requests that completed (equals ``arrived`` unless the router refused some: ``unrouted``).
    public var completed: Int
    /// Requests the router refused (no eligible replica).
    public var unrouted: Int
    /// Prompt tokens of the completed requests.
    public var promptTokens: Int
    /// Prompt tokens served from a replica's prefix cache.
    public var hitTokens: Int
    /// Prompt tokens that were resident but still being prefilled for a concurrent request (not hits).
    public var inPrefillTokens: Int
    /// Generated tokens.
    public var outputTokens: Int
    /// hitTokens / promptTokens.
    public var hitRate: Double
    /// hitRate / the oracle's hit rate (nil when the oracle's is 0).
    public var hitRateOverOracle: Double?
    /// Time to first token percentiles, seconds.
    public var ttft: Percentiles
    /// End-to-end latency percentiles, seconds.
    public var endToEnd: Percentiles
    /// (prompt + generated tokens) / (last completion − first arrival).
    public var throughputTokensPerSecond: Double
    /// Time-averaged max over replicas of outstanding requests ÷ time-averaged mean.
    public var imbalanceTimeAveraged: Double
    /// Time-averaged max over replicas of pending prefill tokens (queued and prefilling, uncached) ÷
    /// time-averaged mean: the imbalance in work rather than in requests.
    public var workImbalanceTimeAveraged: Double
    /// Independent routers the requests were spread over.
    public var gateways: Int
    /// How requests were assigned to gateways (nil with one gateway).
    public var gatewayAssignment: SimulationParameters.GatewayAssignment?
    /// The most outstanding requests any replica held at any moment.
    public var peakOutstanding: Int
    /// How many decisions gave each ``PrefixRouter/RoutingReason``, by name.
    public var reasons: [String: Int]
    /// Share of decisions with reason `spill`.
    public var spillRate: Double
    /// Share of decisions with reason `fallback`.
    public var fallbackRate: Double
    /// One entry per membership change with `--churn`.
    public var churn: [ChurnMeasurement]
    /// Mean wall-clock nanoseconds per `route` call, measured in-process; nil when timing is off.
    public var routingNanosecondsPerCall: Double?
    /// One record per request, in trace order, when ``SimulationParameters/recordsRequests`` is on; else nil
    /// (and absent from the JSON).
    public var requests: [RequestRecord]? = nil

    /// Percentiles of a latency distribution, in seconds.
    public struct Percentiles: Hashable, Sendable, Codable {
        /// Median.
        public var p50: Double
        /// 90th percentile.
        public var p90: Double
        /// 99th percentile.
        public var p99: Double
    }

    /// The mean share of probe keys moved over the membership changes, or nil without churn.
    public var keysMovedShare: Double? {
        guard !churn.isEmpty else { return nil }
        return churn.reduce(0) { $0 + Double($1.moved) / Double(max(1, $1.probes)) } / Double(churn.count)
    }
}

/// Keys moved by one membership change.
///
/// The probe set is the most recent distinct requests routed before the change (up to 1,000). Each probe is
/// routed, without leasing, through a throw-away copy of the strategy just before and just after the change;
/// ``moved`` counts probes whose replica differs. Stateless key-based strategies move about 1/n of the keys;
/// load-based ones move whatever the load says.
public struct ChurnMeasurement: Hashable, Sendable, Codable {
    /// What changed, e.g. `remove replica-7`.
    public var change: String
    /// Simulated time of the change, seconds.
    public var time: Double
    /// Probes routed.
    public var probes: Int
    /// Probes whose replica changed.
    public var moved: Int
}
