@_spi(Internals) @_spi(Simulation) import PrefixRouter
import Testing

/// Run by `.ci/run` under the thread sanitizer (`--filter Concurrency`).
@Suite("Concurrency")
struct ConcurrencyTests {
    @Test("Concurrent routes, early and double releases, cancellation and membership churn end at zero")
    func leaseStress() async throws {
        let ids = replicaIDs(8)
        let router = try FleetRouter(replicaIDs: ids, strategy: try PrefixAffinity(fallback: LeastOutstanding()))
        let tasks = 4
        let routesPerTask = 25_000
        let routed = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<tasks {
                group.addTask {
                    var random = RandomSource(seed: UInt64(worker))
                    var held: [Lease] = []
                    var routed = 0
                    for step in 0..<routesPerTask {
                        let key = random.next(below: 4) == 0 ? 12_345 : random.next()
                        if let decision = router.route(keyedRequest(key)) {
                            routed += 1
                            if random.next(below: 3) == 0 {
                                decision.lease.release()
                            } else {
                                held.append(decision.lease)
                            }
                        }
                        if held.count > 64 || (step % 97 == 0 && !held.isEmpty) {
                            let lease = held.remove(at: random.next(below: held.count))
                            lease.release()
                            if random.next(below: 4) == 0 { lease.release() }  // double release is harmless
                        }
                    }
                    for lease in held { lease.release() }
                    return routed
                }
            }
            // Cancelled requests: each holds a lease inside withLease until cancelled.
            group.addTask {
                await withTaskGroup(of: Void.self) { inner in
                    for index in 0..<200 {
                        inner.addTask {
                            _ = try? await router.withLease(for: keyedRequest(UInt64(index))) { _ in
                                try await Task.sleep(for: .seconds(30))
                            }
                        }
                    }
                    try? await Task.sleep(for: .milliseconds(50))
                    inner.cancelAll()
                }
                return 0
            }
            // Membership churn concurrent with routing.
            group.addTask {
                var random = RandomSource(seed: 99)
                for round in 0..<200 {
                    let id = ids[random.next(below: ids.count)]
                    switch round % 4 {
                    case 0:
                        try router.remove(id)
                        try router.add(Replica(id: id, weight: 1 + random.next(below: 2)))
                    case 1:
                        try router.markDown(id)
                        try router.markUp(id)
                    case 2:
                        try router.drain(id)
                        try router.markUp(id)
                    default:
                        try router.setWeight(1 + random.next(below: 3), of: id)
                    }
                    await Task.yield()
                }
                return 0
            }
            return try await group.reduce(0, +)
        }
        #expect(routed > tasks * routesPerTask / 2)
        #expect(router.liveLeaseCount == 0)
        #expect(router.replicas.count == ids.count)
        #expect(router.replicas.allSatisfy { $0.outstanding == 0 }, "\(router.replicas)")
    }

    // MARK: Strategy state under concurrency

    /// Eight shared 4-block prompt prefixes, so that requests match each other in a `CacheAware` index.
    static let sharedPrefixes: [[BlockHash]] = {
        var random = RandomSource(seed: 0xCAC4E)
        return (0..<8).map { _ in (0..<4).map { _ in BlockHash(random.next()) } }
    }()

    /// A request with a shared prefix and 0–5 unique blocks (none at all one time in ten: the fallback path),
    /// and, with `sessions`, a session key: a hot session half the time (pinned, so found again), a cold one
    /// of 1,000 a quarter of the time (pins and evictions), none otherwise.
    static func request(using random: inout RandomSource, sessions: Bool) -> RoutingRequest {
        var blocks: [BlockHash] = []
        if random.next(below: 10) != 0 {
            blocks = sharedPrefixes[random.next(below: sharedPrefixes.count)]
            for _ in 0..<random.next(below: 6) { blocks.append(BlockHash(random.next())) }
        }
        var session: String?
        if sessions {
            switch random.next(below: 4) {
            case 0, 1: session = "hot-\(random.next(below: 4))"
            case 2: session = "cold-\(random.next(below: 1_000))"
            default: session = nil
            }
        }
        return RoutingRequest(blockHashes: blocks, blockSize: 16, sessionKey: session)
    }

    /// Routes from `tasks` tasks at once (holding, releasing, double-releasing leases), with `churn` while one
    /// more task changes membership with `add`, `remove`, `markDown`, `markUp` and `drain`, and returns the
    /// decisions' reasons. Every lease is released before it returns; membership ends as `ids`.
    static func stress<Strategy: RoutingStrategy>(
        _ router: FleetRouter<Strategy>,
        ids: [ReplicaID],
        tasks: Int,
        routesPerTask: Int,
        sessions: Bool,
        churn: Bool = true
    ) async throws -> [RoutingReason: Int] {
        try await withThrowingTaskGroup(of: [RoutingReason: Int].self) { group in
            for worker in 0..<tasks {
                group.addTask {
                    var random = RandomSource(seed: 0x5754_0000 + UInt64(worker))
                    var held: [Lease] = []
                    var reasons: [RoutingReason: Int] = [:]
                    for _ in 0..<routesPerTask {
                        if let decision = router.route(Self.request(using: &random, sessions: sessions)) {
                            reasons[decision.reason, default: 0] += 1
                            if random.next(below: 3) == 0 {
                                decision.lease.release()
                            } else {
                                held.append(decision.lease)
                            }
                        }
                        if held.count > 32 || (random.next(below: 50) == 0 && !held.isEmpty) {
                            let lease = held.remove(at: random.next(below: held.count))
                            lease.release()
                            if random.next(below: 4) == 0 { lease.release() }  // double release is harmless
                        }
                    }
                    for lease in held { lease.release() }
                    return reasons
                }
            }
            if churn {
                group.addTask {
                    try await Self.churnMembership(of: router, ids: ids)
                    return [:]
                }
            }
            var reasons: [RoutingReason: Int] = [:]
            for try await part in group { reasons.merge(part, uniquingKeysWith: +) }
            return reasons
        }
    }

    /// 150 rounds of membership changes, each leaving membership as `ids`: remove and re-add, mark down and
    /// up, drain and mark up, or add and remove a replica that is not in `ids`.
    static func churnMembership<Strategy: RoutingStrategy>(
        of router: FleetRouter<Strategy>,
        ids: [ReplicaID]
    ) async throws {
        var random = RandomSource(seed: 0xC4A2)
        for round in 0..<150 {
            let id = ids[random.next(below: ids.count)]
            switch round % 4 {
            case 0:
                // Its leases stay live and must not count on the replica added back under the same id.
                try router.remove(id)
                await Task.yield()
                try router.add(Replica(id: id))
            case 1:
                try router.markDown(id)
                await Task.yield()
                try router.markUp(id)
            case 2:
                try router.drain(id)
                await Task.yield()
                try router.markUp(id)
            default:
                // A replica that joins, takes requests, and leaves for good.
                let extra = ReplicaID("extra-\(round)")
                try router.add(Replica(id: extra))
                await Task.yield()
                try router.remove(extra)
            }
            await Task.yield()
        }
    }

    /// The end state every stress run must reach: no live lease, every count back to 0, the original members.
    static func expectQuiescent<Strategy: RoutingStrategy>(_ router: FleetRouter<Strategy>, ids: [ReplicaID]) {
        #expect(router.liveLeaseCount == 0)
        #expect(Set(router.replicas.map(\.id)) == Set(ids), "\(router.replicas)")
        #expect(router.replicas.allSatisfy { $0.outstanding == 0 }, "\(router.replicas)")
        for id in ids { #expect(router.outstanding(of: id) == 0, "\(id)") }
    }

    /// `CacheAware`'s prefix index is read and written by every route, and pruned by every membership change.
    ///
    /// Catches (besides any data race TSan reports, e.g. strategy state touched outside the router's lock): a
    /// lease of a removed replica decrementing the replica added back under its id, or a double release
    /// decrementing twice (a count ends non-zero); the index not dropping replicas that left (`extra-*`
    /// remain); an index table growing past its capacity (`<` → `<=` in the LRU); an index that records
    /// nothing (no cache match, tables not filled by 4,000 routes without churn).
    @Test("CacheAware: concurrent routes, releases and membership churn end at zero, index within capacity")
    func cacheAwareStress() async throws {
        let ids = replicaIDs(6)
        let capacity = 64
        let router = try FleetRouter(
            replicaIDs: ids,
            strategy: try CacheAware(capacityPerReplica: capacity, fallback: LeastOutstanding(seed: 1), seed: 1)
        )
        let tasks = 4
        let routesPerTask = 4_000
        var reasons = try await Self.stress(
            router,
            ids: ids,
            tasks: tasks,
            routesPerTask: routesPerTask,
            sessions: false
        )
        #expect(reasons.values.reduce(0, +) > tasks * routesPerTask / 2, "\(reasons)")
        Self.expectQuiescent(router, ids: ids)
        let afterChurn = Self.indexCounts(router) { $0.index }
        #expect(Set(afterChurn.keys).isSubset(of: Set(ids)), "\(afterChurn)")
        #expect(afterChurn.values.allSatisfy { $0 <= capacity }, "\(afterChurn)")
        // The churn may have emptied the index at the end (a removal drops a replica's table): concurrent routes
        // without churn then fill it again, which must stop at the capacity.
        reasons = try await Self.stress(
            router,
            ids: ids,
            tasks: tasks,
            routesPerTask: 1_000,
            sessions: false,
            churn: false
        )
        #expect(reasons[CacheAware<LeastOutstanding>.cacheMatchReason, default: 0] > 0, "\(reasons)")
        Self.expectQuiescent(router, ids: ids)
        // About 9,000 distinct blocks went to 6 replicas: some replica received more than its capacity.
        let counts = Self.indexCounts(router) { $0.index }
        #expect(Set(counts.keys).isSubset(of: Set(ids)), "\(counts)")
        #expect(counts.values.allSatisfy { $0 <= capacity }, "\(counts)")
        #expect(counts.values.contains(capacity), "no table filled: \(counts)")
    }

    /// `Sticky`'s session table (hot sessions found again, cold ones pinned and evicted from a full table), with
    /// `CacheAware` behind it for requests without a session: both strategies' state under one lock.
    ///
    /// Catches (besides any data race TSan reports): a table over its capacity under concurrent pins
    /// (`keys.count < capacity` → `<=`) or one that never fills; a `Sticky` that stops finding pinned sessions
    /// (no `session` decision without churn); the count, lease and index failures of the `CacheAware` test.
    @Test("Sticky table over CacheAware: concurrent routes, releases and churn end at zero, table within capacity")
    func stickyTableStress() async throws {
        let ids = replicaIDs(6)
        let tableCapacity = 32
        let indexCapacity = 64
        let table = try SessionTable(timeToLive: .seconds(600), capacity: tableCapacity)
        let fallback = try CacheAware(capacityPerReplica: indexCapacity, fallback: LeastOutstanding(seed: 2), seed: 2)
        let router = try FleetRouter(
            replicaIDs: ids,
            strategy: Sticky(sessionTable: table, fallback: fallback, seed: 2)
        )
        let tasks = 4
        let routesPerTask = 4_000
        var reasons = try await Self.stress(
            router,
            ids: ids,
            tasks: tasks,
            routesPerTask: routesPerTask,
            sessions: true
        )
        #expect(reasons.values.reduce(0, +) > tasks * routesPerTask / 2, "\(reasons)")
        #expect(reasons[.newSession, default: 0] > tableCapacity, "\(reasons)")
        Self.expectQuiescent(router, ids: ids)
        // More than `tableCapacity` sessions were pinned, and the table never shrinks.
        #expect(router.withStrategy { _, strategy in strategy.table?.count } == tableCapacity)
        let afterChurn = Self.indexCounts(router) { $0.fallback.index }
        #expect(Set(afterChurn.keys).isSubset(of: Set(ids)), "\(afterChurn)")
        #expect(afterChurn.values.allSatisfy { $0 <= indexCapacity }, "\(afterChurn)")
        // Without churn, hot sessions are found again (a pinned replica may be down or gone during churn).
        reasons = try await Self.stress(
            router,
            ids: ids,
            tasks: tasks,
            routesPerTask: 1_000,
            sessions: true,
            churn: false
        )
        #expect(reasons[.session, default: 0] > 0, "\(reasons)")
        Self.expectQuiescent(router, ids: ids)
        #expect(router.withStrategy { _, strategy in strategy.table?.count } == tableCapacity)
        // About 2,000 distinct blocks went to 6 replicas through CacheAware: some table is full.
        let counts = Self.indexCounts(router) { $0.fallback.index }
        #expect(Set(counts.keys).isSubset(of: Set(ids)), "\(counts)")
        #expect(counts.values.allSatisfy { $0 <= indexCapacity }, "\(counts)")
        #expect(counts.values.contains(indexCapacity), "no table filled: \(counts)")
    }

    /// The blocks held per replica by the prefix index that `index` finds in the router's strategy (read
    /// under the router's lock).
    static func indexCounts<Strategy: RoutingStrategy>(
        _ router: FleetRouter<Strategy>,
        _ index: (Strategy) -> PrefixIndex
    ) -> [ReplicaID: Int] {
        router.withStrategy { _, strategy in
            let index = index(strategy)
            return Dictionary(uniqueKeysWithValues: index.replicas.map { ($0, index.count(for: $0)) })
        }
    }
}
