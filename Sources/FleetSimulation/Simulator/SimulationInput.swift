public import PrefixRouter

/// A trace prepared for replay: arrival times scaled by the speed-up, routing requests built once and shared
/// by every strategy.
public struct SimulationInput: Sendable {
    /// The requests in arrival order.
    public let requests: [TraceRequest]
    /// What the gateway sees of each request.
    public let routingRequests: [RoutingRequest]
    /// Arrival times in seconds after the speed-up.
    public let arrivals: [Double]
    /// Tokens per cache block (the trace's block size).
    public let blockSize: Int
    /// Whether the requests carry prefix hashes.
    public let hasPrefixInfo: Bool

    /// Prepares `trace` for replay at `speedup`.
    ///
    /// - Throws: ``SimulationError`` when the trace mixes block sizes (the cache has one granularity).
    public init(trace: Trace, speedup: Double) throws(SimulationError) {
        guard let first = trace.requests.first else { throw SimulationError("the trace has no request") }
        guard trace.requests.allSatisfy({ $0.blockSize == first.blockSize }) else {
            throw SimulationError("the trace mixes block sizes; the simulated cache needs one")
        }
        self.requests = trace.requests
        self.routingRequests = trace.requests.map(\.routingRequest)
        self.arrivals = trace.requests.map { $0.arrival / speedup }
        self.blockSize = first.blockSize
        self.hasPrefixInfo = trace.hasPrefixInfo
    }
}
