@_spi(Internals) @_spi(Simulation) import PrefixRouter
import Testing

/// `route(_:excluding:)`: a retry after a replica refused the connection skips it, for every strategy, and
/// the excluded replicas leave the fleet view the strategy sees, exactly as if they were down.
@Suite("Retry with exclusion")
struct RetryExclusionTests {
    /// Records what the fleet looked like inside `choose`, then delegates.
    struct Probe<Inner: RoutingStrategy>: RoutingStrategy {
        var inner: Inner
        var seenInFlight = -1
        var seenWeight = -1
        var seenEligible: [ReplicaID] = []

        mutating func choose(for request: RoutingRequest, in fleet: Fleet) -> RoutingChoice? {
            seenInFlight = fleet.inFlight
            seenWeight = fleet.totalEligibleWeight
            seenEligible = (0..<fleet.eligibleCount).map { fleet.id(of: fleet.eligible(at: $0)) }
            return inner.choose(for: request, in: fleet)
        }
    }

    /// Routes many requests excluding `excluded` and checks that none lands there.
    static func check(_ router: some Router, excluding excluded: [ReplicaID], sessions: Bool = false) throws {
        var random = RandomSource(seed: 5)
        for index in 0..<200 {
            let request = RoutingRequest(
                blockHashes: (0..<8).map { _ in BlockHash(random.next()) },
                blockSize: 16,
                sessionKey: sessions ? "session-\(index % 7)" : nil
            )
            let decision = try #require(router.route(request, excluding: excluded))
            #expect(!excluded.contains(decision.replica), "\(type(of: router)): routed to excluded \(decision.replica)")
            decision.lease.release()
        }
    }

    // Catches: a strategy (or the router) that ignores the exclusion list.
    @Test("Every library strategy skips excluded replicas")
    func everyStrategySkipsExcluded() throws {
        let ids = replicaIDs(4)
        let excluded: [ReplicaID] = ["r0", "r2"]
        try Self.check(FleetRouter(replicaIDs: ids, strategy: RoundRobin()), excluding: excluded)
        try Self.check(FleetRouter(replicaIDs: ids, strategy: RandomChoice(seed: 1)), excluding: excluded)
        try Self.check(FleetRouter(replicaIDs: ids, strategy: LeastOutstanding(seed: 1)), excluding: excluded)
        try Self.check(FleetRouter(replicaIDs: ids, strategy: PowerOfTwoChoices(seed: 1)), excluding: excluded)
        try Self.check(
            FleetRouter(replicaIDs: ids, strategy: PrefixAffinity(keyDepthTokens: 16, fallback: RoundRobin())),
            excluding: excluded
        )
        try Self.check(
            FleetRouter(replicaIDs: ids, strategy: CacheAware(fallback: RoundRobin(), seed: 1)),
            excluding: excluded
        )
        try Self.check(
            FleetRouter(replicaIDs: ids, strategy: Sticky(fallback: RoundRobin())),
            excluding: excluded,
            sessions: true
        )
        try Self.check(
            FleetRouter(
                replicaIDs: ids,
                strategy: Sticky(sessionTable: try SessionTable(), fallback: RoundRobin(), seed: 1)
            ),
            excluding: excluded,
            sessions: true
        )
    }

    // Catches: a prefix owner that stays preferred on retry (the retry would hit the same dead replica).
    @Test("A retry of the same prompt moves off its owner, and the next plain route returns to it")
    func retryMovesOffTheOwner() throws {
        let router = try FleetRouter(replicaIDs: replicaIDs(6), strategy: PrefixAffinity(fallback: RoundRobin()))
        let request = RoutingRequest(blockHashes: [BlockHash(42)], blockSize: 16)
        let first = try #require(router.route(request))
        first.lease.release()
        let retry = try #require(router.route(request, excluding: [first.replica]))
        #expect(retry.replica != first.replica)
        retry.lease.release()
        let again = try #require(router.route(request))
        #expect(again.replica == first.replica)  // the exclusion lasted one call only
        again.lease.release()
        #expect(router.route(request, excluding: replicaIDs(6)) == nil)  // everything excluded: nil
        #expect(router.route(request, excluding: ["not-a-member"])?.replica == first.replica)
    }

    // Catches: excluded replicas still counted in the in-flight total and eligible weight (the bug of the
    // first implementation): the bounded-load capacity would be computed over the wrong fleet.
    @Test("Excluded replicas leave the in-flight total and the weight the capacity is computed from")
    func excludedReplicasLeaveTheCapacityInputs() throws {
        let router = try FleetRouter(
            replicas: [Replica(id: "a", weight: 2), Replica(id: "b"), Replica(id: "c")],
            strategy: Probe(inner: LeastOutstanding(seed: 1))
        )
        var held: [Lease] = []
        for _ in 0..<8 { held.append(try #require(router.route(RoutingRequest())).lease) }  // a: 4, b: 2, c: 2
        #expect(router.outstanding(of: "a") == 4)
        let retry = try #require(router.route(RoutingRequest(), excluding: ["a"]))
        let seen = router.withStrategy { _, probe in (probe.seenInFlight, probe.seenWeight, probe.seenEligible) }
        #expect(seen.0 == 4)  // b + c, not 8
        #expect(seen.1 == 2)  // b + c, not 4
        #expect(Set(seen.2) == ["b", "c"])
        held.append(retry.lease)
        let snapshot = router.snapshot()
        #expect(snapshot.inFlight == 9)  // restored: every eligible replica counts again, with the retry's lease
        #expect(snapshot.eligibleWeight == 4)
        for lease in held { lease.release() }
        #expect(router.snapshot().inFlight == 0)
    }
}
