public import PrefixRouter

/// Consistent hashing without a load bound: the ring owner of the request's prefix key, whatever its load
/// (vLLM production-stack's `session` router and nginx `hash … consistent` without the full-peer skip behave
/// this way). The baseline that shows what the bounded-load cap buys.
///
/// The key is ``PrefixAffinity``'s (same key depth, same minimum, same mixing onto the ring: its
/// ``PrefixAffinity/ringPosition(of:)``), so the two differ only by the bound; requests
/// without a usable key go to `Fallback`. Use the same ``FleetConfiguration`` as the ``PrefixAffinity`` line it
/// is compared with.
///
/// - Complexity: O(1) expected per route (the fallback's cost for requests without a key).
public struct PlainConsistentHash<Fallback: RoutingStrategy>: RoutingStrategy {
    /// The key derivation and fallback, shared with ``PrefixAffinity``.
    public var keyed: PrefixAffinity<Fallback>

    /// Creates the strategy with ``PrefixAffinity``'s key parameters.
    ///
    /// - Throws: ``PrefixRouterError`` if `keyDepthTokens` or `minimumBlocks` is below 1.
    public init(
        keyDepthTokens: Int = PrefixAffinity<Fallback>.defaultKeyDepthTokens,
        minimumBlocks: Int = 1,
        fallback: Fallback
    ) throws(PrefixRouterError) {
        keyed = try PrefixAffinity(keyDepthTokens: keyDepthTokens, minimumBlocks: minimumBlocks, fallback: fallback)
    }

    public mutating func choose(for request: RoutingRequest, in fleet: Fleet) -> RoutingChoice? {
        guard let key = keyed.ringPosition(of: request) else {
            return keyed.fallback.choose(for: request, in: fleet).map { RoutingChoice($0.replica, reason: .fallback) }
        }
        return fleet.ringOwner(of: key).map { RoutingChoice($0, reason: .affinity) }
    }

    public mutating func fleetDidChange(_ fleet: Fleet) { keyed.fallback.fleetDidChange(fleet) }
}
