public import PrefixRouter

/// Plain consistent hashing on the prefix key, without a load bound (a baseline).
///
/// The key is the one ``PrefixAffinity`` uses (the chained hash covering the first `keyDepthTokens` tokens),
/// placed on the fleet's ring with ``PrefixRouter/Fleet/ringOwner(of:)``: the owner takes the request however
/// loaded it is. Requests without a usable prefix go to `fallback`. This is what a gateway does with a ring and
/// no load accounting (vLLM production-stack's `session` router without a bound); comparing it with
/// ``PrefixRouter/PrefixAffinity`` shows what the bound buys.
///
/// - Complexity: O(log V) per route.
public struct UnboundedConsistentHash<Fallback: RoutingStrategy>: RoutingStrategy {
    /// Computes the ring key exactly as prefix affinity does.
    public let keying: PrefixAffinity<Fallback>
    /// Places requests without a usable prefix.
    public var fallback: Fallback

    /// Creates the strategy keyed on the first `keyDepthTokens` tokens.
    ///
    /// - Throws: ``PrefixRouter/PrefixRouterError`` if `keyDepthTokens` is below 1.
    public init(keyDepthTokens: Int = 2_048, fallback: Fallback) throws(PrefixRouterError) {
        keying = try PrefixAffinity(keyDepthTokens: keyDepthTokens, fallback: fallback)
        self.fallback = fallback
    }

    public mutating func choose(for request: RoutingRequest, in fleet: Fleet) -> RoutingChoice? {
        guard let key = keying.ringKey(of: request) else {
            return fallback.choose(for: request, in: fleet).map { RoutingChoice($0.replica, reason: .fallback) }
        }
        return fleet.ringOwner(of: key).map { RoutingChoice($0, reason: .affinity) }
    }

    public mutating func fleetDidChange(_ fleet: Fleet) { fallback.fleetDidChange(fleet) }
}
