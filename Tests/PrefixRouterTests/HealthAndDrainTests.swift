@_spi(Internals) import PrefixRouter
import Testing

/// Health (up/down, from health checks) and administration (active/draining, from operators) are separate:
/// a replica is eligible when it is up and active.
@Suite("Health and drain")
struct HealthAndDrainTests {
    // Catches: one shared status, where a health loop's markUp un-drains a replica mid-rollout.
    @Test("drain → markUp leaves the replica draining; markDown → undrain leaves it down")
    func healthDoesNotUndrain() throws {
        let router = try FleetRouter(replicaIDs: ["a", "b"], strategy: RoundRobin())
        try router.drain("a")
        try router.markUp("a")  // a health check sees it answering
        var a = try #require(router.snapshot().replica("a"))
        #expect(a.administrativeState == .draining && a.health == .up && !a.isEligible)
        for _ in 0..<10 {
            let decision = try #require(router.route(RoutingRequest()))
            #expect(decision.replica == "b")
            decision.lease.release()
        }
        try router.markDown("a")
        try router.undrain("a")  // the rollout ends while the replica is still unhealthy
        a = try #require(router.snapshot().replica("a"))
        #expect(a.administrativeState == .active && a.health == .down && !a.isEligible)
        #expect(
            (0..<10).allSatisfy { _ in
                let decision = router.route(RoutingRequest())
                decision?.lease.release()
                return decision?.replica == "b"
            }
        )
        try router.markUp("a")
        a = try #require(router.snapshot().replica("a"))
        #expect(a.isEligible)
        let replicas = (0..<4).compactMap { _ in
            let decision = router.route(RoutingRequest())
            decision?.lease.release()
            return decision?.replica
        }
        #expect(Set(replicas) == ["a", "b"])
    }

    // Catches: a snapshot version that does not move on health or drain changes (a control plane polling it
    // would miss them), and a capacity reported for an ineligible replica.
    @Test("The snapshot's version moves on every change and ineligible replicas report no capacity")
    func snapshotVersionAndCapacity() throws {
        let router = try FleetRouter(replicaIDs: ["a", "b"], strategy: RoundRobin())
        var version = router.snapshot().version
        for change in [{ try router.drain("a") }, { try router.undrain("a") }, { try router.markDown("b") }] {
            try change()
            let next = router.snapshot().version
            #expect(next > version)
            version = next
        }
        let snapshot = router.snapshot()
        #expect(snapshot.replica("b")?.capacity == 0)
        #expect(snapshot.replica("a")?.capacity == 2)  // ⌈1.25 · (0 + 1) · 1 ÷ 1⌉
        #expect(snapshot.eligibleWeight == 1)
    }

    // Catches: `replicas` in slot order (a slot freed by a removal is reused by the next replica to join).
    @Test("Replicas are listed in join order, also when a slot is reused")
    func joinOrder() throws {
        let router = try FleetRouter(replicaIDs: ["a", "b", "c"], strategy: RoundRobin())
        try router.remove("a")
        try router.add(Replica(id: "d"))
        try router.add(Replica(id: "a"))
        #expect(router.replicas.map(\.id) == ["b", "c", "d", "a"])
    }

    // Catches: decisions counted under the wrong reason, or refusals not counted.
    @Test("The snapshot counts decisions by reason and refusals")
    func decisionCounters() throws {
        let router = try FleetRouter(replicaIDs: ["a", "b"], strategy: PrefixAffinity(fallback: RoundRobin()))
        for key in 0..<5 { router.route(RoutingRequest(blockHashes: [BlockHash(UInt64(key))]))?.lease.release() }
        for _ in 0..<3 { router.route(RoutingRequest())?.lease.release() }
        try router.markDown("a")
        try router.markDown("b")
        #expect(router.route(RoutingRequest()) == nil)
        let snapshot = router.snapshot()
        #expect(snapshot.decisions[.affinity] == 5)
        #expect(snapshot.decisions[.fallback] == 3)
        #expect(snapshot.refusals == 1)
    }
}
