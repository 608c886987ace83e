@_spi(Internals) import PrefixRouter
import Testing
import _FleetSimulation

@Suite struct BaselineLLMDTests {
    /// Three pods; the request P has 4 blocks; "a" holds the first `heldA` blocks of P, "b" the first `heldB`;
    /// loads (in-flight) as given. Scores computed by hand: 3 · matched/4 + 2 · (max − q)/(max − min).
    @Test(arguments: [
        // a: 3·1 + 2·0 = 3;      b: 3·0.5 + 2·(2/4) = 2.5;   c: 0 + 2·1 = 2     → a
        (4, 2, [4, 2, 0], ReplicaID("a")),
        // a: 3·1 + 2·0 = 3;      b: 3·0.5 + 2·(5/6) ≈ 3.17;  c: 2               → b
        (4, 2, [6, 1, 0], "b"),
        // equal loads: every queue score 1. a: 5; b: 3.5; c: 2                  → a
        (4, 2, [2, 2, 2], "a"),
        // a: 3·0.25 + 2·0 = 0.75; b: 0 + 0 = 0;              c: 0 + 2 = 2       → c
        (1, 0, [3, 3, 0], "c"),
    ])
    func weightedScorePicksTheHandComputedPod(
        case: (heldA: Int, heldB: Int, loads: [Int], expected: ReplicaID)
    )
        throws
    {
        let p = prompt(11, blocks: 4)
        let rig = try LoadRig(["a", "b", "c"], LLMDScorer(signals: .routerCounts, seed: 1))
        rig.withStrategy { _, s in
            if `case`.heldA > 0 { s.index.insert(Array(p.prefix(`case`.heldA)), for: "a") }
            if `case`.heldB > 0 { s.index.insert(Array(p.prefix(`case`.heldB)), for: "b") }
        }
        for (id, load) in zip(["a", "b", "c"] as [ReplicaID], `case`.loads) { rig.hold(load, on: id) }
        let decision = try #require(rig.route(RoutingRequest(blockHashes: p, blockSize: 16)))
        #expect(decision.replica == `case`.expected)
        // The chosen pod's LRU now holds the request's blocks.
        let matched = rig.withStrategy { _, s in s.index.longestMatch(of: p, for: `case`.expected) }
        #expect(matched == 4)
    }

    /// Equal best scores are broken at random (seeded): "b" and "c" tie at 2, "a" scores 1.5.
    @Test func tiesAreBrokenAtRandomAmongTheBest() throws {
        let p = prompt(12, blocks: 4)
        var chosen: Set<ReplicaID> = []
        for seed in UInt64(1)...40 {
            let rig = try LoadRig(["a", "b", "c"], LLMDScorer(signals: .routerCounts, seed: seed))
            rig.withStrategy { _, s in s.index.insert(Array(p.prefix(2)), for: "a") }
            rig.hold(1, on: "a")
            // a: 3·0.5 + 2·0 = 1.5; b: 0 + 2 = 2; c: 0 + 2 = 2.
            let decision = try #require(rig.route(RoutingRequest(blockHashes: p, blockSize: 16)))
            #expect(decision.replica != "a", "seed \(seed)")
            chosen.insert(decision.replica)
        }
        #expect(chosen == ["b", "c"])
    }

    /// llm-d's rule credits a pod for every block it holds before the first block no pod holds, even after a
    /// gap in its own run: "a" holds blocks 0 and 2, "b" holds 0 and 1, so both score 2/4 and tie.
    @Test func prefixScoreStopsAtTheFirstBlockNoPodHolds() throws {
        let p = prompt(13, blocks: 4)
        var chosen: Set<ReplicaID> = []
        for seed in UInt64(1)...40 {
            let rig = try LoadRig(["a", "b", "c"], LLMDScorer(signals: .routerCounts, seed: seed))
            rig.withStrategy { _, s in
                s.index.insert([p[0]], for: "a")
                s.index.insert([p[2]], for: "a")
                s.index.insert(Array(p.prefix(2)), for: "b")
            }
            // a: 3·2/4 + 2 = 3.5; b: 3·2/4 + 2 = 3.5; c: 2. (A leading-run rule would give a 2.75 and b the win.)
            chosen.insert(try #require(rig.route(RoutingRequest(blockHashes: p, blockSize: 16))).replica)
        }
        #expect(chosen == ["a", "b"])
    }

    @Test func withoutPrefixTheQueueScoreDecides() throws {
        let rig = try LoadRig(["a", "b", "c"], LLMDScorer(signals: .routerCounts, seed: 3))
        rig.hold(2, on: "a")
        rig.hold(1, on: "b")
        rig.hold(2, on: "c")
        #expect(rig.route(RoutingRequest())?.replica == "b")
    }

    @Test func dropsTheLRUOfPodsThatLeft() throws {
        let p = prompt(14, blocks: 4)
        let rig = try LoadRig(["a", "b"], LLMDScorer(signals: .routerCounts, seed: 4))
        let first = try #require(rig.route(RoutingRequest(blockHashes: p, blockSize: 16)))
        try rig.router.remove(first.replica)
        let remaining = rig.withStrategy { _, s in s.index.replicas }
        #expect(remaining.isEmpty)
        try rig.router.add(Replica(id: first.replica))
        let matched = rig.withStrategy { _, s in s.index.longestMatch(of: p, for: first.replica) }
        #expect(matched == 0)
    }

    @Test func rejectsInvalidParameters() {
        #expect(throws: PrefixRouterError.self) { try LLMDScorer(capacityPerPod: 0) }
        #expect(throws: PrefixRouterError.self) { try LLMDScorer(weights: .init(prefix: -1)) }
        #expect(throws: PrefixRouterError.self) { try LLMDScorer(weights: .init(queue: .infinity)) }
    }

    /// The default profile scores engine signals: 3 · prefix + 2 · queue (waiting, min–max) + 2 · (1 − KV
    /// usage), and ignores the router's own in-flight counts. Hand-computed:
    /// - queues all 0 (queue score 1 each): a = 3 + 2 + 2·0.1 = 5.2, b = 0 + 2 + 1.8 = 3.8, c = 0 + 2 + 2 = 4 → a;
    /// - a waiting 4: a = 3 + 0 + 0.2 = 3.2, b = 3.8, c = 4 → c, although c holds 10 router leases.
    /// Catches: reading router counts, normalising KV usage, dropping the KV scorer.
    @Test func defaultProfileScoresEngineSignals() throws {
        let p = prompt(14, blocks: 4)
        let rig = try LoadRig(["a", "b", "c"], LLMDScorer(seed: 1))
        rig.withStrategy { _, s in s.index.insertInPromptOrder(p, for: "a") }
        rig.hold(10, on: "c")
        func scrape(a waitingA: Int) {
            for (id, waiting, usage) in [("a", waitingA, 0.9), ("b", 0, 0.1), ("c", 0, 0.0)]
                as [(ReplicaID, Int, Double)]
            {
                rig.router.observe(
                    .engineMetrics(EngineMetrics(waitingRequests: waiting, kvCacheUsage: usage), replica: id)
                )
            }
        }
        scrape(a: 0)
        #expect(rig.route(RoutingRequest(blockHashes: p, blockSize: 16))?.replica == "a")
        scrape(a: 4)
        #expect(rig.route(RoutingRequest(blockHashes: p, blockSize: 16))?.replica == "c")
    }

    /// Blocks enter a pod's LRU in prompt order, so pressure evicts a prompt's head first (llm-d's indexer), and
    /// the choice carries the matched tokens as the lease's cached estimate. Catches: tail-first insertion (the
    /// head would survive and P would still match 2 blocks).
    @Test func indexAddsBlocksInPromptOrder() throws {
        let p = prompt(15, blocks: 4)
        let q = prompt(16, blocks: 2)
        let rig = try LoadRig(["a"], LLMDScorer(capacityPerPod: 4, seed: 1))
        rig.route(RoutingRequest(blockHashes: p, blockSize: 16))
        let again = try #require(rig.route(RoutingRequest(blockHashes: p, blockSize: 16), keep: true))
        #expect(again.lease.cost.uncachedTokens == 0)
        rig.route(RoutingRequest(blockHashes: q, blockSize: 16))
        let (matched, held) = rig.withStrategy { _, s in
            (s.index.longestMatch(of: p, for: "a"), s.index.count(for: "a"))
        }
        #expect(held == 4)
        #expect(matched == 0)
    }
}
