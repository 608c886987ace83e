@_spi(Internals) @_spi(Simulation) import PrefixRouter
import Testing

/// Sends requests to a pinned replica (with no cached-token estimate) while `pin` is set, else to the inner
/// strategy: to build backlogs the inner strategy does not see.
struct Pinned<Inner: RoutingStrategy>: RoutingStrategy {
    var inner: Inner
    var pin: ReplicaID?

    mutating func choose(for request: RoutingRequest, in fleet: Fleet) -> RoutingChoice? {
        if let pin, let index = fleet.index(of: pin) { return RoutingChoice(index, reason: RoutingReason("pinned")) }
        return inner.choose(for: request, in: fleet)
    }

    mutating func fleetDidChange(_ fleet: Fleet) { inner.fleetDidChange(fleet) }
    mutating func observe(_ feedback: RoutingFeedback, in fleet: Fleet) { inner.observe(feedback, in: fleet) }
}

@Suite("Estimated-TTFT strategy")
struct EstimatedTTFTTests {
    typealias Strategy = EstimatedTTFT<LeastOutstanding>

    /// 10 blocks of 100 tokens.
    static let prompt = (0..<10).map { BlockHash(0xA000 + UInt64($0)) }
    static let request = RoutingRequest(blockHashes: prompt, blockSize: 100)

    static func router(
        scatterCharge: Double,
        temperature: Double? = nil,
        seed: UInt64 = 1
    ) throws -> FleetRouter<Pinned<Strategy>> {
        let strategy = try Strategy(
            scatterCharge: scatterCharge,
            prefillTokensPerSecond: 1_000,
            temperature: temperature,
            loadFactor: nil,
            fallback: LeastOutstanding(seed: seed),
            seed: seed
        )
        let router = try FleetRouter(replicaIDs: replicaIDs(3), strategy: Pinned(inner: strategy, pin: nil))
        // r0 holds the whole prompt, r1 its first half, r2 nothing (as another gateway reported).
        router.observe(.placement(blockHashes: prompt, replica: "r0"))
        router.observe(.placement(blockHashes: Array(prompt.prefix(5)), replica: "r1"))
        return router
    }

    /// Puts `tokens` of pending prefill on `replica` (a request with no cached estimate) and returns its lease.
    static func backlog(_ tokens: Int, on replica: ReplicaID, _ router: FleetRouter<Pinned<Strategy>>) throws -> Lease {
        router.withStrategy { _, strategy in strategy.pin = replica }
        defer { router.withStrategy { _, strategy in strategy.pin = nil } }
        return try #require(router.route(RoutingRequest(tokenCount: tokens))).lease
    }

    /// r0: 3,000 pending, 0 uncached; r1: 0 pending, 500 uncached; r2: 0 pending, 1,000 uncached; rate 1,000/s.
    /// λ = 8: r0 = 3.0 s, r1 = 9 · 0.5 = 4.5 s, r2 = 9.0 s → r0. λ = 0: r0 = 3.0, r1 = 0.5, r2 = 1.0 → r1.
    /// Catches: ignoring the backlog (r0 at λ = 0), ignoring λ (r1 at λ = 8), counting requests instead of work.
    @Test(arguments: [(8.0, ReplicaID("r0"), 0), (0.0, "r1", 500)])
    func choosesTheLeastEstimatedTTFT(case: (lambda: Double, expected: ReplicaID, uncached: Int)) throws {
        let router = try Self.router(scatterCharge: `case`.lambda)
        let held = try Self.backlog(3_000, on: "r0", router)
        let strategy = router.withStrategy { _, s in s.inner }
        let costs = router.withStrategy { fleet, s in
            (0..<3).map {
                s.inner.estimatedSeconds(uncachedTokens: [0, 500, 1_000][$0], on: fleet.eligible(at: $0), in: fleet)
            }
        }
        #expect(costs == (`case`.lambda == 8 ? [3.0, 4.5, 9.0] : [3.0, 0.5, 1.0]))
        #expect(strategy.scatterCharge == `case`.lambda)
        let decision = try #require(router.route(Self.request))
        #expect(decision.replica == `case`.expected)
        #expect(decision.lease.cost.uncachedTokens == `case`.uncached)
        #expect(decision.reason == Strategy.cacheMatchReason)
        decision.lease.release()
        held.release()
    }

    /// The backlog is pending prefill, not outstanding work: once r0's long request reports its first token,
    /// r0 (cost 0) wins at λ = 0. Catches: using outstanding tokens or request counts as the backlog.
    @Test func backlogDropsAtTheFirstToken() throws {
        let router = try Self.router(scatterCharge: 0)
        let held = try Self.backlog(3_000, on: "r0", router)
        #expect(router.route(Self.request).map { ($0.replica, $0.lease.release()).0 } == "r1")
        held.reportFirstToken()
        #expect(router.route(Self.request).map { ($0.replica, $0.lease.release()).0 } == "r0")
        held.release()
    }

    /// With a temperature the choice is a softmax over normalised costs: every replica gets some requests, the
    /// cheapest the most; without one, always the cheapest. Catches: a softmax that ignores the costs, or
    /// sampling when the temperature is nil.
    @Test func softmaxSpreadsInProportionToCost() throws {
        var counts: [ReplicaID: Int] = [:]
        for seed in UInt64(1)...300 {
            let router = try Self.router(scatterCharge: 0, temperature: 1, seed: seed)
            let held = try Self.backlog(3_000, on: "r0", router)
            // Costs r0 3.0, r1 0.5, r2 1.0 → normalised 1, 0, 0.2: weights e^-1, 1, e^-0.2.
            counts[try #require(router.route(Self.request)).replica, default: 0] += 1
            held.release()
        }
        #expect(Set(counts.keys) == ["r0", "r1", "r2"])
        #expect(counts["r1", default: 0] > counts["r2", default: 0])
        #expect(counts["r2", default: 0] > counts["r0", default: 0])
        // Expected shares 0.46 / 0.38 / 0.17: generous bounds, the seeds are fixed.
        #expect((100...180).contains(counts["r1", default: 0]))
        for seed in UInt64(1)...20 {
            let router = try Self.router(scatterCharge: 0, seed: seed)
            let held = try Self.backlog(3_000, on: "r0", router)
            #expect(router.route(Self.request)?.replica == "r1", "seed \(seed)")
            held.release()
        }
    }

    /// Two hash-chosen candidates: a key only ever goes to its two replicas, the same two in every gateway, and
    /// the backlog decides between them. Catches: candidates that depend on the gateway's state or seed, one
    /// candidate only, or a second candidate equal to the first.
    @Test func twoCandidatesAreTheSameInEveryGateway() throws {
        func gateway(seed: UInt64) throws -> FleetRouter<Strategy> {
            try FleetRouter(
                replicaIDs: replicaIDs(8),
                strategy: Strategy(
                    scatterCharge: 0,  // so that the backlog moves turns between the two
                    candidates: .twoOnRing(keyDepthTokens: 400),
                    loadFactor: nil,
                    fallback: LeastOutstanding(seed: seed),
                    seed: seed
                )
            )
        }
        var used: [Set<ReplicaID>] = []
        for seed in UInt64(1)...3 {
            let router = try gateway(seed: seed)
            var held: [Lease] = []
            var replicas: Set<ReplicaID> = []
            for turn in 0..<12 {
                // Same first 4 blocks (the key at 400 tokens), different tails.
                let blocks = Array(Self.prompt.prefix(4)) + [BlockHash(0xB000 + UInt64(turn))]
                let decision = try #require(router.route(RoutingRequest(blockHashes: blocks, blockSize: 100)))
                replicas.insert(decision.replica)
                held.append(decision.lease)
            }
            used.append(replicas)
            for lease in held { lease.release() }
        }
        #expect(used[0].count == 2)
        #expect(used.allSatisfy { $0 == used[0] })
    }

    /// With several gateways, an engine's waiting queue (scraped) raises its backlog above what this router
    /// sent it: waiting × the mean uncached tokens of this router's requests. Catches: ignoring engine metrics.
    @Test func engineWaitingQueuesRaiseTheBacklog() throws {
        let router = try FleetRouter(
            replicaIDs: replicaIDs(2),
            strategy: Strategy(scatterCharge: 0, loadFactor: nil, fallback: LeastOutstanding(seed: 1), seed: 1)
        )
        // 64 requests of 1,000 uncached tokens, released at once: the mean rises to ≈ 630, the backlog stays 0.
        for turn in 0..<64 {
            let request = RoutingRequest(blockHashes: [BlockHash(0xC000 + UInt64(turn))], blockSize: 1_000)
            try #require(router.route(request)).lease.release()
        }
        for (round, (busy, idle)) in ([("r0", "r1"), ("r1", "r0")] as [(ReplicaID, ReplicaID)]).enumerated() {
            router.observe(.engineMetrics(EngineMetrics(waitingRequests: 5), replica: busy))
            router.observe(.engineMetrics(EngineMetrics(waitingRequests: 0), replica: idle))
            for turn in 0..<5 {
                // Cached nowhere, no backlog in this router: only the engines' queues differ.
                let fresh = RoutingRequest(blockHashes: [BlockHash(0xD000 + UInt64(round * 10 + turn))], blockSize: 100)
                let decision = try #require(router.route(fresh))
                #expect(decision.replica == idle)
                decision.lease.release()
            }
        }
    }

    /// No blocks: the fallback, labelled as such. Catches: scoring an empty prompt.
    @Test func requestsWithoutBlocksGoToTheFallback() throws {
        let router = try FleetRouter(replicaIDs: replicaIDs(3), strategy: Strategy(fallback: LeastOutstanding(seed: 1)))
        #expect(router.route(RoutingRequest(tokenCount: 50))?.reason == .fallback)
    }

    /// A replica at the safety cap is not a candidate even when it holds the whole prompt. Catches: no cap.
    @Test func respectsTheSafetyCap() throws {
        let strategy = try Strategy(prefillTokensPerSecond: 1_000, loadFactor: 1.5, fallback: LeastOutstanding(seed: 1))
        let router = try FleetRouter(replicaIDs: replicaIDs(2), strategy: Pinned(inner: strategy, pin: nil))
        router.observe(.placement(blockHashes: Self.prompt, replica: "r0"))
        // r0 holds 2 short requests, r1 none: capacity ⌈1.5 · 3 / 2⌉ = 3 > 2, so r0 still qualifies…
        let a = try Self.backlog(1, on: "r0", router)
        let b = try Self.backlog(1, on: "r0", router)
        #expect(router.route(Self.request).map { ($0.replica, $0.lease.release()).0 } == "r0")
        // …but with a third, capacity ⌈1.5 · 4 / 2⌉ = 3 = its load: r1, although it must prefill everything.
        let c = try Self.backlog(1, on: "r0", router)
        #expect(router.route(Self.request).map { ($0.replica, $0.lease.release()).0 } == "r1")
        for lease in [a, b, c] { lease.release() }
    }

    /// The two named configurations carry the parameters RESULTS.md (issue 10) measured as the bench's
    /// `recommended` (one gateway) and `recommended-multi` (several). Catches: a factory drifting from its
    /// bench line (which the gateway's `estimated-ttft-single` and `estimated-ttft` build).
    @Test func recommendedFactoriesCarryTheBenchParameters() throws {
        let single = try Strategy.recommendedSingleGateway(capacityPerReplica: 123, fallback: LeastOutstanding())
        #expect(single.candidates == .all)
        #expect(single.scatterCharge == 24)
        #expect(single.decodeSecondsPerRequest == 0.004)
        #expect(single.loadFactor == (try LoadFactor(5)))
        #expect(!single.usesEngineMetrics)
        #expect(single.temperature == nil && !single.correctsIndexFromCachedTokens)
        #expect(single.prefillTokensPerSecond == 10_000)
        #expect(single.index.capacityPerReplica == 123)
        let multi = try Strategy.recommendedMultiGateway(
            capacityPerReplica: 456,
            keyDepthTokens: 1_024,
            fallback: LeastOutstanding()
        )
        #expect(multi.candidates == .twoOnRing(keyDepthTokens: 1_024))
        #expect(multi.scatterCharge == 8)
        #expect(multi.decodeSecondsPerRequest == 0)
        #expect(multi.loadFactor == (try LoadFactor(4)))
        #expect(multi.usesEngineMetrics)
        #expect(multi.temperature == nil && !multi.correctsIndexFromCachedTokens)
        #expect(multi.index.capacityPerReplica == 456)
    }

    @Test func rejectsInvalidParametersNamingThem() {
        func message(_ body: () throws -> Strategy) -> String {
            do {
                _ = try body()
                return ""
            } catch { return "\(error)" }
        }
        #expect(message { try Strategy(scatterCharge: -1, fallback: LeastOutstanding()) }.contains("scatterCharge"))
        #expect(message { try Strategy(scatterCharge: .nan, fallback: LeastOutstanding()) }.contains("scatterCharge"))
        #expect(
            message { try Strategy(prefillTokensPerSecond: 0, fallback: LeastOutstanding()) }
                .contains("prefillTokensPerSecond")
        )
        #expect(message { try Strategy(temperature: 0, fallback: LeastOutstanding()) }.contains("temperature"))
        #expect(
            message { try Strategy(candidates: .twoOnRing(keyDepthTokens: 0), fallback: LeastOutstanding()) }
                .contains("keyDepthTokens")
        )
        #expect(message { try Strategy(capacityPerReplica: 0, fallback: LeastOutstanding()) }.contains("capacity"))
        #expect(message { try Strategy(loadFactor: 1, fallback: LeastOutstanding()) }.contains("loadFactor"))
    }
}
