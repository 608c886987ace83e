@_spi(Internals) import PrefixRouter
import Testing

@Suite("Leases and membership")
struct LeaseTests {
    struct Failure: Error {}

    @Test("Release is exactly once: copies share the lease")
    func releaseOnce() throws {
        let router = try FleetRouter(replicaIDs: replicaIDs(2), strategy: RoundRobin())
        let decision = try #require(router.route(RoutingRequest()))
        let copy = decision.lease
        #expect(decision.lease.isHeld)
        #expect(router.outstanding(of: decision.replica) == 1)
        #expect(copy.release())
        #expect(!decision.lease.release())
        #expect(!copy.isHeld)
        #expect(router.outstanding(of: decision.replica) == 0)
        #expect(router.liveLeaseCount == 0)
    }

    @Test("A stale lease never touches a reused lease slot")
    func staleLeaseAfterReuse() throws {
        let router = try FleetRouter(replicaIDs: ["a"], strategy: RoundRobin())
        let first = try #require(router.route(RoutingRequest()))
        first.lease.release()
        let second = try #require(router.route(RoutingRequest()))  // reuses the table entry
        #expect(!first.lease.release())
        #expect(router.outstanding(of: "a") == 1)
        second.lease.release()
        #expect(router.outstanding(of: "a") == 0)
    }

    @Test("Releasing after the replica left, or left and rejoined, changes no count")
    func releaseAfterRemoval() throws {
        let router = try FleetRouter(replicaIDs: ["a", "b"], strategy: RoundRobin())
        let onA = try #require(router.route(RoutingRequest()))
        #expect(onA.replica == "a")
        try router.remove("a")
        try router.add(Replica(id: "a"))
        let fresh = try #require(router.route(RoutingRequest(), at: .now))
        let countA = router.outstanding(of: "a")
        #expect(onA.lease.release())
        #expect(router.outstanding(of: "a") == countA)
        fresh.lease.release()
        #expect(router.replicas.allSatisfy { $0.outstanding == 0 })
        #expect(router.liveLeaseCount == 0)
    }

    @Test("withLease releases when the body returns, throws, or is cancelled")
    func withLeaseReleasesOnEveryPath() async throws {
        let router = try FleetRouter(replicaIDs: replicaIDs(2), strategy: LeastOutstanding(seed: 1))
        let value = await router.withLease(for: RoutingRequest()) { decision in
            #expect(router.outstanding(of: decision.replica) == 1)
            return decision.replica
        }
        #expect(value != nil)
        #expect(router.liveLeaseCount == 0)

        await #expect(throws: Failure.self) {
            try await router.withLease(for: RoutingRequest()) { _ in throw Failure() }
        }
        #expect(router.liveLeaseCount == 0)

        let task = Task {
            try await router.withLease(for: RoutingRequest()) { _ in
                try await Task.sleep(for: .seconds(60))
            }
        }
        while router.liveLeaseCount == 0 { await Task.yield() }
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(router.liveLeaseCount == 0)
        #expect(router.replicas.allSatisfy { $0.outstanding == 0 })
    }

    @Test("withLease returns nil without running the body when no replica is eligible")
    func withLeaseNoReplica() async throws {
        let router = try FleetRouter(replicaIDs: ["a"], strategy: RoundRobin())
        try router.markDown("a")
        let result: Int? = await router.withLease(for: RoutingRequest()) { _ in 1 }
        #expect(result == nil)
    }

    @Test("Draining: no new requests, leases finish, then removal")
    func drain() throws {
        let router = try FleetRouter(replicaIDs: ["a", "b"], strategy: LeastOutstanding(seed: 4))
        let held = try (0..<4).map { _ in try #require(router.route(RoutingRequest())) }
        try router.drain("a")
        for _ in 0..<10 {
            let decision = try #require(router.route(RoutingRequest()))
            #expect(decision.replica == "b")
            decision.lease.release()
        }
        #expect(router.snapshot().replica("a")?.administrativeState == .draining)
        #expect(router.outstanding(of: "a") == 2)
        for decision in held { decision.lease.release() }
        #expect(router.outstanding(of: "a") == 0)
        try router.remove("a")
        #expect(router.replicas.map(\.id) == ["b"])
    }

    @Test("An empty fleet routes nothing and accepts replicas later")
    func emptyFleet() throws {
        let router = try FleetRouter(replicas: [], strategy: try PrefixAffinity(fallback: LeastOutstanding()))
        #expect(router.route(keyedRequest(1)) == nil)
        try router.add(Replica(id: "late"))
        #expect(router.route(keyedRequest(1))?.replica == "late")
    }

    @Test("Weights: a replica of weight 3 takes about 3/4 of the least-outstanding traffic when held")
    func weightedLeastOutstanding() throws {
        let router = try FleetRouter(
            replicas: [Replica(id: "big", weight: 3), Replica(id: "small", weight: 1)],
            strategy: LeastOutstanding(seed: 3)
        )
        let held = try (0..<400).map { _ in try #require(router.route(RoutingRequest())).lease }
        #expect(router.outstanding(of: "big") == 300)
        #expect(router.outstanding(of: "small") == 100)
        for lease in held { lease.release() }
    }
}
