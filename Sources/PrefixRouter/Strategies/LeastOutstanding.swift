/// Least outstanding requests (LOR): the eligible replica with the fewest leased requests per unit of
/// weight, ties broken uniformly at random (never "the first one": SMG once sent every tie to worker 0).
///
/// This is nginx `least_conn`, AWS ALB `least_outstanding_requests` and Envoy's full-scan LEAST_REQUEST.
/// It is the best load-only policy and the recommended fallback for requests without a usable prefix.
///
/// - Complexity: O(n) per route over the eligible replicas.
public struct LeastOutstanding: RoutingStrategy {
    private var random: RandomSource

    /// Creates the strategy; pass a seed for reproducible tie-breaking.
    public init(seed: UInt64? = nil) {
        random = seed.map(RandomSource.init(seed:)) ?? RandomSource()
    }

    /// Chooses a replica for `request` as described in the type's documentation.
    public mutating func choose(for request: RoutingRequest, in fleet: Fleet) -> RoutingChoice? {
        fleet.leastLoaded(using: &random).map { RoutingChoice($0, reason: .leastOutstanding) }
    }
}
