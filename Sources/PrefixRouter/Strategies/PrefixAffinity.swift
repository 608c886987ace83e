/// Prefix affinity on a consistent-hash ring with bounded loads, falling back to another strategy for
/// requests without a usable prefix.
///
/// The ring key is the chained hash of block `k − 1`, where `k = min(blocks, keyDepthTokens ÷ blockSize)`:
/// the hash that covers the first `keyDepthTokens` tokens, or the whole hashed prompt when it is shorter.
/// Requests that share that much prefix share a key, hence a replica (and its KV cache); the bounded-load
/// walk (``Fleet/boundedLoadOwner(of:)``) moves a key clockwise when its owner holds `c ×` its share of the
/// load, the same way in every gateway, so the spilled key's secondary warms too.
///
/// The key is mixed once before the lookup (``ringPosition(of:)``, ``HashSchema/ringPosition(forKey:)``):
/// requests whose block hashes are not uniform 64-bit values, such as small integers (engine block ids),
/// still spread over the whole ring instead of all landing before its first point.
///
/// ### Why the key is deep, not the first block
/// Keying on the first block (or the first 100 characters) sends every request to one replica when they all
/// open with the same system prompt: in the Mooncake conversation trace every request starts with the
/// same 512-token block. The default depth, ``defaultKeyDepthTokens`` (2,048 tokens), is past common
/// system prompts and tool preambles, yet short enough that a conversation's turns share it after the first
/// turn or two. Prompts shorter than the depth key on their whole hashed prefix, so a short conversation
/// moves at most until it reaches the depth. Tune it with the bench on your own traces.
///
/// ### Load in requests or in work
/// By default the bound counts outstanding requests (``LoadMeasure/requests``). With
/// ``LoadMeasure/pendingPrefillTokens`` it counts the prefill work queued on each replica instead (the uncached
/// prompt tokens of leases that have not reported a first token; this strategy has no index, so a lease's
/// uncached tokens are its whole prompt), and a request of `x` tokens spills from a replica whose pending work
/// is at `c ×` its share of the fleet's pending work plus `x` (``Fleet/workCapacity(of:requestTokens:)``).
/// Prompts vary by two orders of magnitude, so five short requests and two long ones are not the same load;
/// the work bound is also independent of the number of gateways (each compares its own backlog with its own
/// total), where a request floor (``FleetConfiguration/minimumCapacity``) multiplies with it.
///
/// - Complexity: O(1) expected per route while the owner has room; O(V) worst case when most replicas are full.
public struct PrefixAffinity<Fallback: RoutingStrategy>: RoutingStrategy {
    /// The default key depth in tokens.
    public static var defaultKeyDepthTokens: Int { 2_048 }

    /// How many leading tokens the ring key covers (rounded down to whole blocks, at least one block).
    public let keyDepthTokens: Int
    /// Requests with fewer full blocks than this go to ``fallback``. At least 1.
    public let minimumBlocks: Int
    /// What the bounded-load walk counts as load. Default ``LoadMeasure/requests``.
    public let loadMeasure: LoadMeasure
    /// Places requests without a usable prefix.
    public var fallback: Fallback

    /// Creates the strategy.
    ///
    /// - Parameters:
    ///   - keyDepthTokens: how many leading tokens the ring key covers.
    ///   - minimumBlocks: requests with fewer full blocks go to `fallback`.
    ///   - loadMeasure: requests (the default) or pending prefill tokens.
    ///   - fallback: places requests without a usable prefix.
    /// - Throws: ``PrefixRouterError`` if `keyDepthTokens` or `minimumBlocks` is below 1.
    public init(
        keyDepthTokens: Int = PrefixAffinity.defaultKeyDepthTokens,
        minimumBlocks: Int = 1,
        loadMeasure: LoadMeasure = .requests,
        fallback: Fallback
    ) throws(PrefixRouterError) {
        guard keyDepthTokens >= 1 else {
            throw PrefixRouterError(.invalidParameter, "keyDepthTokens: expected at least 1, found \(keyDepthTokens)")
        }
        guard minimumBlocks >= 1 else {
            throw PrefixRouterError(.invalidParameter, "minimumBlocks: expected at least 1, found \(minimumBlocks)")
        }
        self.keyDepthTokens = keyDepthTokens
        self.minimumBlocks = minimumBlocks
        self.loadMeasure = loadMeasure
        self.fallback = fallback
    }

    /// The ring key of `request`: the chained hash of its key block (the block covering the first
    /// ``keyDepthTokens`` tokens, or its last block when it is shorter), before mixing; nil when it has fewer
    /// than ``minimumBlocks`` blocks. O(1).
    @inlinable
    public func ringKey(of request: RoutingRequest) -> UInt64? {
        let blocks = request.blockHashes.count
        guard blocks >= minimumBlocks, blocks > 0 else { return nil }
        let depth = Swift.min(blocks, Swift.max(1, keyDepthTokens / Swift.max(1, request.blockSize)))
        return request.blockHashes[depth - 1].rawValue
    }

    /// Where `request` lands on the ring: ``HashSchema/ringPosition(forKey:)`` of ``ringKey(of:)``, or nil
    /// when it has no ring key. This is the value every route looks up. O(1), no allocation.
    @inlinable
    public func ringPosition(of request: RoutingRequest) -> UInt64? {
        ringKey(of: request).map(HashSchema.ringPosition(forKey:))
    }

    /// Chooses a replica for `request` as described in the type's documentation.
    public mutating func choose(for request: RoutingRequest, in fleet: Fleet) -> RoutingChoice? {
        guard let key = ringPosition(of: request) else {
            return fallback.choose(for: request, in: fleet).map { RoutingChoice($0.replica, reason: .fallback) }
        }
        guard
            let (replica, spilled) = fleet.boundedLoadOwner(
                of: key,
                measure: loadMeasure,
                requestTokens: request.tokenCount
            )
        else { return nil }
        return RoutingChoice(replica, reason: spilled ? .spill : .affinity)
    }

    /// Drops state about replicas that left and passes the change on to the fallback.
    public mutating func fleetDidChange(_ fleet: Fleet) { fallback.fleetDidChange(fleet) }

    /// Passes feedback on to the fallback.
    public mutating func observe(_ feedback: RoutingFeedback, in fleet: Fleet) { fallback.observe(feedback, in: fleet) }
}
