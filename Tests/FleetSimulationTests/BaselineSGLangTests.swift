@_spi(Internals) import PrefixRouter
import Testing
import _FleetSimulation

@Suite struct BaselineSGLangTests {
    /// Two workers; prompt P (8 blocks of 16 tokens) has been routed to "a" (the min-load choice while idle),
    /// so a later P matches "a" fully (match rate 1 > 0.3). Then "a" carries `loadA`, "b" `loadB`, and P is
    /// routed again: the imbalance override sends it to "b" only when both thresholds are exceeded.
    @Test(arguments: [
        // (loadA, loadB, imbalanced) — hand-derived from: max − min > 64 and max > 1.5 × min.
        (65, 0, true),  // gap 65 > 64; 65 > 0
        (64, 0, false),  // gap 64 is not > 64 (only the relative threshold exceeded)
        (60, 10, false),  // gap 50: relative exceeded (60 > 15), absolute not
        (200, 135, false),  // gap 65 > 64, but 200 ≤ 202.5: absolute exceeded, relative not
        (195, 130, false),  // gap 65; 195 = 1.5 × 130 exactly: not greater
        (196, 130, true),  // gap 66; 196 > 195
        (100, 20, true),
    ])
    func imbalanceOverrideNeedsBothThresholds(loads: (a: Int, b: Int, imbalanced: Bool)) throws {
        let rig = try LoadRig(["a", "b"], SGLangCacheAware())
        let p = prompt(1, blocks: 8)
        let first = try #require(rig.route(RoutingRequest(blockHashes: p, blockSize: 16)))
        #expect(first.replica == "a")
        rig.hold(loads.a, on: "a")
        rig.hold(loads.b, on: "b")
        let decision = try #require(rig.route(RoutingRequest(blockHashes: p, blockSize: 16)))
        if loads.imbalanced {
            #expect(decision.replica == "b")
            #expect(decision.reason == SGLangCacheAware.imbalanceReason)
            // The overridden request is still inserted under the worker it went to.
            let matchedOnB = rig.withStrategy { _, s in s.index?.longestMatch(of: p, for: "b") ?? -1 }
            #expect(matchedOnB == 8)
        } else {
            #expect(decision.replica == "a")
            #expect(decision.reason == SGLangCacheAware.cacheMatchReason)
        }
    }

    /// "a" holds the first `shared` blocks of a 10-block prompt; "a" carries one request, "b" none (balanced),
    /// so min_load_idx is "b". The longest match wins only when matched ÷ input > 0.3, strictly.
    @Test(arguments: [
        (3, 160, "b"),  // 48 / 160 = 0.3: not above the threshold → min load
        (3, 159, "a"),  // 48 / 159 ≈ 0.302 > 0.3 → longest match
        (4, 160, "a"),  // 64 / 160 = 0.4
        (2, 160, "b"),  // 32 / 160 = 0.2
    ])
    func cacheThresholdIsStrict(case: (shared: Int, tokens: Int, expected: ReplicaID)) throws {
        let rig = try LoadRig(["a", "b"], SGLangCacheAware())
        let head = prompt(7, blocks: `case`.shared)
        #expect(rig.route(RoutingRequest(blockHashes: head, blockSize: 16))?.replica == "a")
        rig.hold(1, on: "a")
        let request = RoutingRequest(
            blockHashes: prompt(8, blocks: 10, sharing: head),
            blockSize: 16,
            tokenCount: `case`.tokens
        )
        let decision = try #require(rig.route(request))
        #expect(decision.replica == `case`.expected)
        #expect(
            decision.reason
                == (`case`.expected == "a" ? SGLangCacheAware.cacheMatchReason : SGLangCacheAware.minimumLoadReason)
        )
    }

    @Test func cacheThresholdIsConfigurable() throws {
        let rig = try LoadRig(["a", "b"], SGLangCacheAware(configuration: .init(cacheThreshold: 0.5)))
        let head = prompt(7, blocks: 4)
        #expect(rig.route(RoutingRequest(blockHashes: head, blockSize: 16))?.replica == "a")
        rig.hold(1, on: "a")
        // 4 of 10 blocks = 0.4: above SGLang's default 0.3, below 0.5 → min load.
        let request = RoutingRequest(blockHashes: prompt(8, blocks: 10, sharing: head), blockSize: 16)
        #expect(rig.route(request)?.replica == "b")
    }

    /// min_load_idx = argmin(load, processed_count, index): requests without a prefix (match rate 0) show it.
    @Test func minimumLoadOrdersByLoadThenProcessedCountThenIndex() throws {
        let rig = try LoadRig(["a", "b", "c"], SGLangCacheAware())
        let empty = RoutingRequest()
        // All idle, nothing processed: index order.
        #expect(rig.route(empty)?.replica == "a")
        // Loads equal (0 after release); "a" has processed 1: "b", then "c", then back to "a".
        #expect(rig.route(empty)?.replica == "b")
        #expect(rig.route(empty)?.replica == "c")
        #expect(rig.route(empty)?.replica == "a")
        // Load dominates the processed count: "a" has processed the most but "b" and "c" are busier.
        rig.hold(1, on: "b")
        rig.hold(1, on: "c")
        #expect(rig.route(empty)?.replica == "a")
        #expect(rig.route(empty)?.replica == "a")
        let processed = rig.withStrategy { _, s in s.processedCount }
        #expect(processed == ["a": 4, "b": 1, "c": 1])
    }

    /// Equal longest matches go to the matched node's last tenant, whatever the load, and stay there (sticky).
    /// Catches: breaking the tie by load (the old stand-in), or by the first holder in eligible order.
    @Test func longestMatchTiesGoToTheLastTenantNotTheLeastLoaded() throws {
        let rig = try LoadRig(["a", "b"], SGLangCacheAware())
        let p = prompt(3, blocks: 4)
        #expect(rig.route(RoutingRequest(blockHashes: p, blockSize: 16))?.replica == "a")
        // Force P onto "b" as well, through the imbalance override (gap 65 > 64, 66 > 1.5).
        rig.hold(1, on: "b")
        rig.hold(66, on: "a")
        #expect(rig.route(RoutingRequest(blockHashes: p, blockSize: 16))?.replica == "b")  // override, inserted on b
        rig.releaseAll()
        // Both hold P fully; "b" inserted it last. "b" is the busier one (3 against 1): still "b", every time.
        rig.hold(1, on: "a")
        rig.hold(3, on: "b")
        for _ in 0..<3 {
            let decision = rig.route(RoutingRequest(blockHashes: p, blockSize: 16), keep: true)
            #expect(decision?.replica == "b")
            #expect(decision?.reason == SGLangCacheAware.cacheMatchReason)
        }
        #expect(rig.withStrategy { _, s in s.lastTenant[p[3]] } == "b")
        // A longer prompt through P's node, routed to "a" by the override, makes "a" P's last tenant.
        rig.releaseAll()
        rig.hold(70, on: "b")
        let longer = prompt(4, blocks: 6, sharing: p)
        #expect(rig.route(RoutingRequest(blockHashes: longer, blockSize: 16))?.replica == "a")
        rig.releaseAll()
        rig.hold(5, on: "a")
        #expect(rig.route(RoutingRequest(blockHashes: p, blockSize: 16))?.replica == "a")
    }

    @Test func perWorkerIndexIsCapped() throws {
        // 4,096 characters ÷ 4 per token ÷ 16 tokens per block = 64 blocks per worker.
        let configuration = SGLangCacheAware.Configuration(maxTreeSizeCharacters: 4_096)
        #expect(configuration.capacityBlocks(blockSize: 16) == 64)
        let rig = try LoadRig(["a"], SGLangCacheAware(configuration: configuration))
        for seed in UInt64(1)...20 { rig.route(RoutingRequest(blockHashes: prompt(seed, blocks: 10), blockSize: 16)) }
        let held = rig.withStrategy { _, s in s.index?.count(for: "a") ?? -1 }
        #expect(held == 64)
    }

    @Test func dropsStateOfReplicasThatLeft() throws {
        let rig = try LoadRig(["a", "b"], SGLangCacheAware())
        let p = prompt(5, blocks: 4)
        #expect(rig.route(RoutingRequest(blockHashes: p, blockSize: 16))?.replica == "a")
        try rig.router.remove("a")
        let afterRemoval = rig.withStrategy { _, s in (s.index?.replicas ?? [], s.processedCount) }
        #expect(afterRemoval.0.isEmpty)
        #expect(afterRemoval.1.isEmpty)
        try rig.router.add(Replica(id: "a"))
        let matched = rig.withStrategy { _, s in s.index?.longestMatch(of: p, for: "a") ?? -1 }
        #expect(matched == 0)
    }

    @Test func rejectsInvalidConfiguration() {
        #expect(throws: PrefixRouterError.self) { try SGLangCacheAware(configuration: .init(cacheThreshold: -1)) }
        #expect(throws: PrefixRouterError.self) { try SGLangCacheAware(configuration: .init(balanceAbsThreshold: -1)) }
        #expect(throws: PrefixRouterError.self) {
            try SGLangCacheAware(configuration: .init(balanceRelThreshold: .nan))
        }
        #expect(throws: PrefixRouterError.self) { try SGLangCacheAware(configuration: .init(maxTreeSizeCharacters: 0)) }
    }
}
