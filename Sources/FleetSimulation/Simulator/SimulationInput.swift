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
    /// The number of leading blocks every request with blocks shares (the system/tool preamble common to the
    /// whole trace: 1 on the Mooncake conversation trace). A workload property an operator knows.
    public let sharedLeadingBlocks: Int
    /// Each request's session for per-session gateway assignment: a hash of its session key, else of its
    /// first block past the shared preamble (its conversation), else nil.
    public let sessionKeys: [UInt64?]

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
        let shared = SimulationInput.sharedLeadingBlocks(of: trace.requests)
        self.sharedLeadingBlocks = shared
        self.sessionKeys = trace.requests.map { request in
            if let key = request.sessionKey {
                // FNV-1a, then mixed: a fixed function of the key, the same in every run.
                var hash: UInt64 = 0xcbf2_9ce4_8422_2325
                for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
                return HashSchema.ringPosition(forKey: hash)
            }
            guard !request.blockHashes.isEmpty else { return nil }
            let block = request.blockHashes[min(shared, request.blockHashes.count - 1)]
            return HashSchema.ringPosition(forKey: block.rawValue)
        }
    }

    /// The longest run of leading blocks common to every request that has blocks (0 without any). O(B).
    static func sharedLeadingBlocks(of requests: [TraceRequest]) -> Int {
        var shared: [BlockHash]?
        for request in requests where !request.blockHashes.isEmpty {
            guard let common = shared else {
                shared = request.blockHashes
                continue
            }
            var length = 0
            while length < common.count, length < request.blockHashes.count,
                common[length] == request.blockHashes[length]
            {
                length += 1
            }
            if length < common.count { shared = Array(common.prefix(length)) }
            if length == 0 { return 0 }
        }
        return shared?.count ?? 0
    }
}
