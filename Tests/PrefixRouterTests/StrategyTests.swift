@_spi(Internals) @_spi(Simulation) import PrefixRouter
import Testing

@Suite("Load-balancing strategies")
struct StrategyTests {
    /// Builds a router and holds `loads[i]` leases on replica i (routing through a pinning strategy).
    static func fleet<S: RoutingStrategy>(
        loads: [Int],
        weights: [Int]? = nil,
        strategy: S
    ) throws -> (router: FleetRouter<Pinned<S>>, held: [Lease]) {
        let replicas = loads.indices.map { Replica(id: ReplicaID("r\($0)"), weight: weights?[$0] ?? 1) }
        let router = try FleetRouter(replicas: replicas, strategy: Pinned(inner: strategy))
        var held: [Lease] = []
        for (index, load) in loads.enumerated() {
            for _ in 0..<load {
                router.withStrategy { _, strategy in strategy.pin = ReplicaID("r\(index)") }
                held.append(try #require(router.route(RoutingRequest())).lease)
            }
        }
        router.withStrategy { _, strategy in strategy.pin = nil }
        return (router, held)
    }

    /// A custom strategy written against the public protocol: sends to `pin` if set, else to `inner`.
    struct Pinned<Inner: RoutingStrategy>: RoutingStrategy {
        var inner: Inner
        var pin: ReplicaID?

        mutating func choose(for request: RoutingRequest, in fleet: Fleet) -> RoutingChoice? {
            if let pin, let index = fleet.index(of: pin) {
                return RoutingChoice(index, reason: RoutingReason("pinned"))
            }
            return inner.choose(for: request, in: fleet)
        }
    }

    @Test("LeastOutstanding returns a minimum of outstanding/weight (brute-force reference)", arguments: 0..<40)
    func leastOutstandingIsMinimal(seed: Int) throws {
        var random = RandomSource(seed: UInt64(seed))
        let count = 2 + random.next(below: 10)
        let loads = (0..<count).map { _ in random.next(below: 6) }
        let weights = (0..<count).map { _ in 1 + random.next(below: 3) }
        let (router, held) = try Self.fleet(
            loads: loads,
            weights: weights,
            strategy: LeastOutstanding(seed: UInt64(seed))
        )
        let decision = try #require(router.route(RoutingRequest()))
        let chosen = try #require(Int(decision.replica.rawValue.dropFirst()))
        let minimum = loads.indices.map { Double(loads[$0]) / Double(weights[$0]) }.min() ?? 0
        #expect(Double(loads[chosen]) / Double(weights[chosen]) == minimum, "seed \(seed)")
        decision.lease.release()
        for lease in held { lease.release() }
    }

    @Test("LeastOutstanding spreads ties uniformly (chi-square, 7 degrees of freedom)")
    func leastOutstandingTiesAreUniform() throws {
        let router = try FleetRouter(replicaIDs: replicaIDs(8), strategy: LeastOutstanding(seed: 2024))
        var counts: [ReplicaID: Int] = [:]
        let trials = 16_000
        for _ in 0..<trials {
            let decision = try #require(router.route(RoutingRequest()))
            counts[decision.replica, default: 0] += 1
            decision.lease.release()  // all loads stay 0: every call is an 8-way tie
        }
        let expected = Double(trials) / 8
        let chiSquare = counts.values.reduce(0.0) { $0 + pow2(Double($1) - expected) / expected }
        #expect(counts.count == 8)
        #expect(chiSquare < 24.32, "chi-square \(chiSquare) (p = 0.001 critical value 24.32)")
    }

    @Test("PowerOfTwoChoices never returns the strict maximum when n >= 3", arguments: 0..<30)
    func powerOfTwoAvoidsStrictMaximum(seed: Int) throws {
        var random = RandomSource(seed: UInt64(seed) &+ 1_000)
        let count = 3 + random.next(below: 8)
        var loads = (0..<count).map { _ in random.next(below: 5) }
        let top = random.next(below: count)
        loads[top] = (loads.max() ?? 0) + 1 + random.next(below: 3)
        let (router, held) = try Self.fleet(loads: loads, strategy: PowerOfTwoChoices(seed: UInt64(seed)))
        for _ in 0..<300 {
            let decision = try #require(router.route(RoutingRequest()))
            #expect(decision.replica != ReplicaID("r\(top)"), "seed \(seed)")
            decision.lease.release()
        }
        for lease in held { lease.release() }
    }

    @Test("PowerOfTwoChoices samples two distinct replicas: with two, it always picks the less loaded")
    func powerOfTwoDistinctSamples() throws {
        let (router, held) = try Self.fleet(loads: [3, 1], strategy: PowerOfTwoChoices(seed: 5))
        for _ in 0..<200 {
            let decision = try #require(router.route(RoutingRequest()))
            #expect(decision.replica == "r1")
            decision.lease.release()
        }
        for lease in held { lease.release() }
    }

    @Test("RoundRobin cycles through the eligible replicas")
    func roundRobinCycles() throws {
        let router = try FleetRouter(replicaIDs: replicaIDs(3), strategy: RoundRobin())
        let picks = (0..<6).compactMap { _ in router.route(RoutingRequest()) }
        #expect(picks.map(\.replica) == ["r0", "r1", "r2", "r0", "r1", "r2"])
        try router.markDown("r1")
        let after = (0..<4).compactMap { _ in router.route(RoutingRequest()) }
        #expect(after.allSatisfy { $0.replica != "r1" })
        for decision in picks + after { decision.lease.release() }
    }

    @Test("RandomChoice reaches every replica and only eligible ones")
    func randomChoice() throws {
        let router = try FleetRouter(replicaIDs: replicaIDs(4), strategy: RandomChoice(seed: 8))
        try router.drain("r3")
        var seen = Set<ReplicaID>()
        for _ in 0..<400 {
            let decision = try #require(router.route(RoutingRequest()))
            seen.insert(decision.replica)
            decision.lease.release()
        }
        #expect(seen == ["r0", "r1", "r2"])
    }

    @Test("A custom strategy written in a few lines composes with the router's health filtering")
    func customStrategy() throws {
        /// Always the last eligible replica.
        struct LastEligible: RoutingStrategy {
            mutating func choose(for request: RoutingRequest, in fleet: Fleet) -> RoutingChoice? {
                fleet.eligibleCount == 0
                    ? nil : RoutingChoice(fleet.eligible(at: fleet.eligibleCount - 1), reason: RoutingReason("last"))
            }
        }
        let router = try FleetRouter(replicaIDs: replicaIDs(3), strategy: LastEligible())
        #expect(router.route(RoutingRequest())?.replica == "r2")
        try router.markDown("r2")
        #expect(router.route(RoutingRequest())?.replica == "r1")
        // A strategy that names an ineligible replica is refused, not obeyed.
        let pinned = try FleetRouter(replicaIDs: replicaIDs(2), strategy: Pinned(inner: RoundRobin(), pin: "r0"))
        try pinned.markDown("r0")
        #expect(pinned.route(RoutingRequest()) == nil)
    }
}

@Suite("Affinity strategies")
struct AffinityTests {
    static func chain(_ seeds: [UInt64]) -> [BlockHash] { seeds.map { BlockHash($0) } }

    @Test("Prefix affinity keys deeper than a shared first block: a hot system prompt does not collapse")
    func sharedFirstBlockSpreads() throws {
        let router = try FleetRouter(
            replicaIDs: replicaIDs(8),
            strategy: try PrefixAffinity(fallback: LeastOutstanding(seed: 1))
        )
        var random = RandomSource(seed: 11)
        var perReplica: [ReplicaID: Int] = [:]
        for _ in 0..<2_000 {
            // 2,048 tokens in 16-token blocks: 128 blocks, the first 64 (1,024 tokens) shared by everyone.
            let hashes = (0..<128).map { $0 < 64 ? BlockHash(UInt64($0)) : BlockHash(random.next()) }
            let decision = try #require(router.route(RoutingRequest(blockHashes: hashes, blockSize: 16)))
            perReplica[decision.replica, default: 0] += 1
            decision.lease.release()
        }
        #expect(perReplica.count == 8)
        #expect((perReplica.values.max() ?? 0) < 2_000 / 8 * 2)
    }

    @Test("Keying on the first block alone collapses onto one owner until the bound spills it")
    func firstBlockKeyCollapses() throws {
        let router = try FleetRouter(
            replicaIDs: replicaIDs(8),
            strategy: try PrefixAffinity(keyDepthTokens: 16, fallback: LeastOutstanding(seed: 1)),
            configuration: FleetConfiguration(loadFactor: 1.25, minimumCapacity: 4)
        )
        var random = RandomSource(seed: 12)
        func request() -> RoutingRequest {
            RoutingRequest(blockHashes: [BlockHash(7)] + (0..<10).map { _ in BlockHash(random.next()) }, blockSize: 16)
        }
        // One at a time (each released before the next), every request has the same owner: the collapse.
        var owners = Set<ReplicaID>()
        for _ in 0..<100 {
            let decision = try #require(router.route(request()))
            owners.insert(decision.replica)
            decision.lease.release()
        }
        #expect(owners.count == 1)
        let owner = try #require(owners.first)

        // Held concurrently, the owner fills to its bound and the rest spill clockwise, in spill order. Catches a
        // strategy that ignores the bound (all 400 on the owner) and a spill that skips the ring order.
        var held: [RoutingDecision] = []
        for _ in 0..<400 { held.append(try #require(router.route(request()))) }
        let loads = Dictionary(uniqueKeysWithValues: router.replicas.map { ($0.id, $0.outstanding) })
        let bound = expectedCapacity(loadFactorThousandths: 1_250, inFlight: 399, weight: 1, totalWeight: 8)
        #expect(loads.values.allSatisfy { $0 <= bound }, "loads \(loads), bound \(bound)")
        #expect(held.first?.replica == owner && held.first?.reason == .affinity)
        #expect(held.contains { $0.reason == .spill })
        #expect(loads[owner] == loads.values.max())
        // Replicas fill in the ring's clockwise order from the key: the distinct replicas, in the order they
        // were first used, are a prefix of the spill order.
        let key = try #require(
            try PrefixAffinity(keyDepthTokens: 16, fallback: RoundRobin()).ringPosition(of: request())
        )
        let order = held.map(\.replica).reduce(into: [ReplicaID]()) { if !$0.contains($1) { $0.append($1) } }
        #expect(order.count > 1)
        #expect(Array(router.ring.spillOrder(of: key).prefix(order.count)) == order)
        for decision in held { decision.lease.release() }
    }

    @Test("Requests sharing the key prefix land on one replica; requests without blocks use the fallback")
    func affinityAndFallback() throws {
        let router = try FleetRouter(
            replicaIDs: replicaIDs(8),
            strategy: try PrefixAffinity(keyDepthTokens: 64, fallback: RoundRobin())
        )
        let shared = Self.chain([1, 2, 3, 4])
        let first = try #require(router.route(RoutingRequest(blockHashes: shared + Self.chain([99]), blockSize: 16)))
        first.lease.release()  // with 8 idle replicas the capacity is 1: a concurrent second request would spill
        let second = try #require(
            router.route(RoutingRequest(blockHashes: shared + Self.chain([100, 101]), blockSize: 16))
        )
        #expect(first.replica == second.replica)
        #expect(first.reason == .affinity)
        let noPrefix = try #require(router.route(RoutingRequest(blockHashes: [], blockSize: 16, tokenCount: 5)))
        #expect(noPrefix.reason == .fallback)
    }

    @Test("A capacity floor keeps concurrent same-prefix requests together on an idle fleet")
    func capacityFloorKeepsAffinity() throws {
        func replicasUsed(minimumCapacity: Int) throws -> Int {
            let router = try FleetRouter(
                replicaIDs: replicaIDs(8),
                strategy: try PrefixAffinity(fallback: LeastOutstanding(seed: 1)),
                configuration: FleetConfiguration(minimumCapacity: minimumCapacity)
            )
            let held = try (0..<6).map { _ in
                try #require(router.route(RoutingRequest(blockHashes: Self.chain([77]), blockSize: 16)))
            }
            defer { for decision in held { decision.lease.release() } }
            return Set(held.map(\.replica)).count
        }
        // Floor 1: capacity ceil(1.25 * (m + 1) / 8) is 1 until m = 6, so six concurrent requests use six replicas.
        #expect(try replicasUsed(minimumCapacity: 1) == 6)
        // Floor 8: all six stay on the key's owner.
        #expect(try replicasUsed(minimumCapacity: 8) == 1)
    }

    @Test("Short prompts key on their whole hashed prefix")
    func shortPromptKey() throws {
        let strategy = try PrefixAffinity(keyDepthTokens: 2_048, fallback: RoundRobin())
        let request = RoutingRequest(blockHashes: Self.chain([5, 6, 7]), blockSize: 16)
        #expect(strategy.ringKey(of: request) == 7)
        let long = RoutingRequest(blockHashes: (0..<200).map { BlockHash(UInt64($0)) }, blockSize: 16)
        #expect(strategy.ringKey(of: long) == 127)
        let coarse = RoutingRequest(blockHashes: (0..<200).map { BlockHash(UInt64($0)) }, blockSize: 512)
        #expect(strategy.ringKey(of: coarse) == 3)
    }

    @Test("A replica marked down loses its keys to the next replica and gets them back when up")
    func healthFiltering() throws {
        let router = try FleetRouter(
            replicaIDs: replicaIDs(5),
            strategy: try PrefixAffinity(fallback: LeastOutstanding())
        )
        let request = RoutingRequest(blockHashes: Self.chain([42]), blockSize: 16)
        let owner = try #require(router.route(request))
        owner.lease.release()
        try router.markDown(owner.replica)
        let moved = try #require(router.route(request))
        #expect(moved.replica != owner.replica)
        #expect(moved.replica == router.ring.spillOrder(of: HashSchema.ringPosition(forKey: 42))[1])
        moved.lease.release()
        try router.markUp(owner.replica)
        #expect(router.route(request)?.replica == owner.replica)
    }

    @Test("Sticky ring mode: a session stays on one replica; no session uses the fallback")
    func stickyRing() throws {
        let router = try FleetRouter(replicaIDs: replicaIDs(6), strategy: Sticky(fallback: RoundRobin()))
        let first = try #require(router.route(RoutingRequest(sessionKey: "conversation-1")))
        first.lease.release()
        for _ in 0..<20 {
            let next = try #require(router.route(RoutingRequest(sessionKey: "conversation-1")))
            #expect(next.replica == first.replica)
            next.lease.release()
        }
        #expect(router.route(RoutingRequest())?.reason == .fallback)
    }

    @Test("Sticky table mode: pinned to the least loaded replica, kept within the TTL, re-pinned after")
    func stickyTable() throws {
        let table = try SessionTable(timeToLive: .seconds(10), capacity: 4)
        let router = try FleetRouter(
            replicaIDs: replicaIDs(3),
            strategy: Sticky(sessionTable: table, fallback: RoundRobin(), seed: 1)
        )
        let start = ContinuousClock.now
        // Load r0 and r1 so that the least loaded replica is r2.
        let holdA = try #require(router.route(RoutingRequest(), at: start))
        let holdB = try #require(router.route(RoutingRequest(), at: start))
        let pinned = try #require(router.route(RoutingRequest(sessionKey: "s"), at: start))
        #expect(pinned.reason == .newSession)
        #expect(pinned.replica == "r2")
        let again = try #require(router.route(RoutingRequest(sessionKey: "s"), at: start.advanced(by: .seconds(9))))
        #expect(again.reason == .session)
        #expect(again.replica == "r2")
        // Within the TTL of the last use (9 s + 10 s), still pinned.
        #expect(router.route(RoutingRequest(sessionKey: "s"), at: start.advanced(by: .seconds(18)))?.reason == .session)
        // Expired: pinned anew.
        #expect(
            router.route(RoutingRequest(sessionKey: "s"), at: start.advanced(by: .seconds(40)))?.reason == .newSession
        )
        for d in [holdA, holdB, pinned, again] { d.lease.release() }
        // The table never holds more than its capacity.
        for index in 0..<20 {
            router.route(RoutingRequest(sessionKey: "many-\(index)"), at: start.advanced(by: .seconds(41)))?.lease
                .release()
        }
        let size = router.withStrategy { _, strategy in strategy.table?.count ?? -1 }
        #expect(size >= 1 && size <= 4)
    }
}

func pow2(_ x: Double) -> Double { x * x }
