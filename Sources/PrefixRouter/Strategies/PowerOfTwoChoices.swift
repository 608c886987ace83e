/// Power of two choices (Mitzenmacher): sample two *distinct* eligible replicas uniformly and take the less
/// loaded (outstanding ÷ weight), a random one of the two on a tie.
///
/// Distinct samples matter: with independent samples and two replicas, the busier one is picked a quarter of
/// the time. Because the two samples differ, a replica that is strictly more loaded than every other is
/// never returned while two or more are eligible. With one eligible replica it returns that one.
///
/// - Complexity: O(1) per route.
public struct PowerOfTwoChoices: RoutingStrategy {
    private var random: RandomSource

    /// Creates the strategy; pass a seed for reproducible sampling.
    public init(seed: UInt64? = nil) {
        random = seed.map(RandomSource.init(seed:)) ?? RandomSource()
    }

    /// Chooses a replica for `request` as described in the type's documentation.
    public mutating func choose(for request: RoutingRequest, in fleet: Fleet) -> RoutingChoice? {
        let count = fleet.eligibleCount
        guard count > 0 else { return nil }
        guard count > 1 else { return RoutingChoice(fleet.eligible(at: 0), reason: .powerOfTwo) }
        let first = random.next(below: count)
        var second = random.next(below: count - 1)
        if second >= first { second += 1 }
        let a = fleet.eligible(at: first)
        let b = fleet.eligible(at: second)
        let pick: Fleet.Index
        if fleet.isLessLoaded(a, than: b) {
            pick = a
        } else if fleet.isLessLoaded(b, than: a) {
            pick = b
        } else {
            pick = random.next() & 1 == 0 ? a : b
        }
        return RoutingChoice(pick, reason: .powerOfTwo)
    }
}
