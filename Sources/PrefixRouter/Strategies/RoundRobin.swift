/// Round robin over the eligible replicas (a baseline: it ignores load and prefixes).
///
/// - Complexity: O(1) per route.
public struct RoundRobin: RoutingStrategy {
    private var next: Int = 0

    /// Creates the strategy.
    public init() {}

    /// Chooses a replica for `request` as described in the type's documentation.
    public mutating func choose(for request: RoutingRequest, in fleet: Fleet) -> RoutingChoice? {
        let count = fleet.eligibleCount
        guard count > 0 else { return nil }
        if next >= count { next = 0 }
        defer { next += 1 }
        return RoutingChoice(fleet.eligible(at: next), reason: .roundRobin)
    }
}

/// A uniformly random eligible replica (a baseline).
///
/// - Complexity: O(1) per route.
public struct RandomChoice: RoutingStrategy {
    private var random: RandomSource

    /// Creates the strategy; pass a seed for reproducible runs.
    public init(seed: UInt64? = nil) {
        random = seed.map(RandomSource.init(seed:)) ?? RandomSource()
    }

    /// Chooses a replica for `request` as described in the type's documentation.
    public mutating func choose(for request: RoutingRequest, in fleet: Fleet) -> RoutingChoice? {
        guard fleet.eligibleCount > 0 else { return nil }
        return RoutingChoice(fleet.eligible(at: random.next(below: fleet.eligibleCount)), reason: .random)
    }
}
