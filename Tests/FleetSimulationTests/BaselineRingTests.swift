@_spi(Internals) import PrefixRouter
import Testing
import _FleetSimulation

private func ids(_ count: Int) -> [ReplicaID] { (0..<count).map { ReplicaID("pod-\($0)") } }

@Suite struct BaselineKubeAITests {
    /// kubeai PR #528's rule, `in_flight ≤ (total + 1) ÷ N × 1.25`, and the rule before it (`in_flight + 1 ≤ …`).
    /// Catches: `<` for `≤`, a ceiling on the threshold, a `+ 1` on the left in the current rule, a missing
    /// `total == 0` acceptance.
    @Test func acceptanceRulesBeforeAndAfterPR528() throws {
        let current = try KubeAICHWBL()
        #expect(current.rule == .current)
        // total 7 over 5 endpoints: threshold (7 + 1) / 5 × 1.25 = 2.0 exactly.
        #expect(current.accepts(inFlight: 2, total: 7, endpoints: 5))  // 2 ≤ 2.0: equality accepts
        #expect(!current.accepts(inFlight: 3, total: 7, endpoints: 5))
        // total 6: threshold 1.75, not rounded up.
        #expect(current.accepts(inFlight: 1, total: 6, endpoints: 5))
        #expect(!current.accepts(inFlight: 2, total: 6, endpoints: 5))
        // Many endpoints, low load: an idle endpoint accepts (0 ≤ 0.025), a busy one does not.
        #expect(current.accepts(inFlight: 0, total: 1, endpoints: 100))
        #expect(!current.accepts(inFlight: 1, total: 1, endpoints: 100))
        #expect(current.accepts(inFlight: 5, total: 0, endpoints: 100))  // total 0: everyone

        let before = try KubeAICHWBL(rule: .beforePR528)
        #expect(before.accepts(inFlight: 1, total: 7, endpoints: 5))  // 1 + 1 ≤ 2.0
        #expect(!before.accepts(inFlight: 2, total: 7, endpoints: 5))
        #expect(!before.accepts(inFlight: 1, total: 6, endpoints: 5))  // 2 > 1.75
        // The threshold (1 + 1) / 100 × 1.25 = 0.025 refuses even an idle endpoint.
        #expect(!before.accepts(inFlight: 0, total: 1, endpoints: 100))
        #expect(before.accepts(inFlight: 0, total: 0, endpoints: 1_000))
    }

    /// The key skips the shared leading blocks (KubeAI keys on the first user message, not the system prompt).
    /// Catches: keying on block 0 when told to skip, or trapping on a request no longer than the skipped part.
    @Test func keySkipsTheSharedPreamble() throws {
        let p = prompt(40, blocks: 5)
        let firstUser = try KubeAICHWBL(skippedLeadingBlocks: 1)
        #expect(firstUser.ringKey(of: RoutingRequest(blockHashes: p, blockSize: 16)) == p[1].rawValue)
        #expect(firstUser.ringKey(of: RoutingRequest(blockHashes: [p[0]], blockSize: 16)) == p[0].rawValue)
        #expect(firstUser.ringKey(of: RoutingRequest()) == KubeAICHWBL.emptyPromptKey)
        #expect(try KubeAICHWBL().ringKey(of: RoutingRequest(blockHashes: p, blockSize: 16)) == p[0].rawValue)
        #expect(throws: PrefixRouterError.self) { try KubeAICHWBL(skippedLeadingBlocks: -1) }
        // Conversations sharing only block 0 spread over the ring with the skip.
        let router = try FleetRouter(
            replicaIDs: ids(8),
            strategy: firstUser,
            configuration: KubeAICHWBL.fleetConfiguration
        )
        var owners: Set<ReplicaID> = []
        for seed in UInt64(0)..<40 {
            // Uniform 64-bit hashes, as KubeAI's XXH64 of the text (and the trace readers' hashes) are.
            let blocks = prompt(3_000 + seed, blocks: 4, sharing: [p[0]]).map {
                BlockHash(rawValue: HashSchema.ringPosition(forKey: $0.rawValue))
            }
            let request = RoutingRequest(blockHashes: blocks, blockSize: 16)
            let decision = try #require(router.route(request))
            owners.insert(decision.replica)
            decision.lease.release()
        }
        #expect(owners.count >= 6)
    }

    /// With 6 in flight over 5 endpoints the threshold is 1.75: KubeAI moves a key off an owner holding 2,
    /// while our bounded-load owner (capacity ceil(1.25 · 7 / 5) = 2) would too; with 7 in flight (threshold 2.0,
    /// our capacity ceil(1.25 · 8 / 5) = 2) KubeAI keeps an owner holding 2 and we do not.
    @Test func kubeAIThresholdHasNoCeiling() throws {
        let replicas = ids(5)
        let rig = try LoadRig(replicas, KubeAICHWBL(), configuration: KubeAICHWBL.fleetConfiguration)
        let p = prompt(21, blocks: 3)
        let key = p[0].rawValue
        let owner = try #require(rig.withStrategy { fleet, _ in fleet.ringOwner(of: key).map { fleet.id(of: $0) } })
        // The owner holds 2, one other endpoint 5, the remaining three none: 7 in flight.
        rig.hold(2, on: owner)
        rig.hold(5, on: try #require(replicas.first { $0 != owner }))
        #expect(rig.withStrategy { fleet, _ in fleet.inFlight } == 7)
        let oursAt7 = rig.withStrategy { fleet, _ in fleet.boundedLoadOwner(of: key).map { fleet.id(of: $0.replica) } }
        #expect(oursAt7 != owner)
        #expect(rig.route(RoutingRequest(blockHashes: p, blockSize: 16))?.replica == owner)
        rig.releaseAll()
        // The owner holds 2, one other endpoint 4: 6 in flight; threshold 1.75 < 2, so KubeAI moves the key.
        rig.hold(2, on: owner)
        rig.hold(4, on: try #require(replicas.first { $0 != owner }))
        #expect(rig.withStrategy { fleet, _ in fleet.inFlight } == 6)
        let decision = try #require(rig.route(RoutingRequest(blockHashes: p, blockSize: 16)))
        #expect(decision.replica != owner)
        #expect(decision.reason == KubeAICHWBL.spillReason)
    }

    /// kubeai PR #519/#528: before #528, with many endpoints and low load the threshold drops below 1, no
    /// endpoint accepts, and every request lands on its ring owner, however loaded. Our bounded-load owner
    /// spreads them.
    @Test func beforePR528ManyEndpointsAndLowLoadPileOntoTheRingOwner() throws {
        let replicas = ids(100)
        let rig = try LoadRig(
            replicas,
            KubeAICHWBL(rule: .beforePR528),
            configuration: KubeAICHWBL.fleetConfiguration
        )
        let hot = prompt(22, blocks: 3)
        let owner = try #require(
            rig.withStrategy { fleet, _ in fleet.ringOwner(of: hot[0].rawValue).map { fleet.id(of: $0) } }
        )
        for turn in 0..<30 {
            // Same first block, different rest: KubeAI's one key is the first block.
            let request = RoutingRequest(
                blockHashes: prompt(1_000 + UInt64(turn), blocks: 3, sharing: [hot[0]]),
                blockSize: 16
            )
            let decision = try #require(rig.route(request, keep: true))
            #expect(decision.replica == owner, "turn \(turn)")
            #expect(decision.reason == (turn == 0 ? KubeAICHWBL.ownerReason : KubeAICHWBL.defaultEndpointReason))
        }
        #expect(rig.load(of: owner) == 30)
        // Distinct keys: each lands on its own ring owner whatever that owner's load, as long as
        // (total + 1) · 1.25 < 100, i.e. up to 78 in flight (30 + 40 here).
        var landedOnBusyOwner = 0
        for seed in UInt64(0)..<40 {
            let p = prompt(2_000 + seed, blocks: 2)
            let expected = try #require(
                rig.withStrategy { fleet, _ in fleet.ringOwner(of: p[0].rawValue).map { fleet.id(of: $0) } }
            )
            if rig.load(of: expected) > 0 { landedOnBusyOwner += 1 }
            #expect(rig.route(RoutingRequest(blockHashes: p, blockSize: 16), keep: true)?.replica == expected)
        }
        // Some of those owners were already busy while idle endpoints existed (else the check proves nothing).
        #expect(landedOnBusyOwner > 0)

        // Ours: PrefixAffinity keyed on the first block, same ring: capacity max(1, ceil(1.25 · 31 / 100)) = 1,
        // so the 30 hot requests occupy 30 replicas, one each.
        let oursRig = try LoadRig(
            replicas,
            PrefixAffinity(keyDepthTokens: 16, fallback: LeastOutstanding(seed: 1)),
            configuration: KubeAICHWBL.fleetConfiguration
        )
        var placed: Set<ReplicaID> = []
        for turn in 0..<30 {
            let request = RoutingRequest(
                blockHashes: prompt(1_000 + UInt64(turn), blocks: 3, sharing: [hot[0]]),
                blockSize: 16
            )
            placed.insert(try #require(oursRig.route(request, keep: true)).replica)
        }
        #expect(placed.count == 30)
        // PrefixAffinity mixes its key onto the ring: its owner is that of the mixed first block.
        let oursOwner = try #require(
            oursRig.withStrategy { fleet, _ in
                fleet.ringOwner(of: HashSchema.ringPosition(forKey: hot[0].rawValue)).map { fleet.id(of: $0) }
            }
        )
        #expect(oursRig.load(of: oursOwner) == 1)
    }

    /// The current rule (PR #528) fixes the pile-up: an idle endpoint always accepts, so the hot key walks to
    /// the next idle endpoint. Catches: the pre-#528 `+ 1` in the default rule.
    @Test func theCurrentRuleDoesNotPileUp() throws {
        let rig = try LoadRig(ids(100), KubeAICHWBL(), configuration: KubeAICHWBL.fleetConfiguration)
        let hot = prompt(23, blocks: 1)
        var placed: Set<ReplicaID> = []
        for _ in 0..<30 {
            placed.insert(try #require(rig.route(RoutingRequest(blockHashes: hot, blockSize: 16), keep: true)).replica)
        }
        #expect(placed.count == 30)
    }

    @Test func fleetConfigurationHas256PointsPerEndpoint() throws {
        #expect(KubeAICHWBL.fleetConfiguration.virtualNodesPerWeight == 256)
        let router = try FleetRouter(
            replicaIDs: ids(3),
            strategy: KubeAICHWBL(),
            configuration: KubeAICHWBL.fleetConfiguration
        )
        #expect(router.ring.members.count == 3)
        #expect(router.ring.virtualNodesPerWeight == 256)
    }

    @Test func rejectsInvalidLoadFactor() {
        #expect(throws: PrefixRouterError.self) { try KubeAICHWBL(loadFactor: 0) }
        #expect(throws: PrefixRouterError.self) { try KubeAICHWBL(loadFactor: .nan) }
    }
}

@Suite struct BaselinePlainConsistentHashTests {
    @Test func routesToTheRingOwnerOfPrefixAffinitysKeyWhateverTheLoad() throws {
        let strategy = try PlainConsistentHash(fallback: LeastOutstanding(seed: 1))
        let rig = try LoadRig(ids(8), strategy)
        // 200 blocks of 16 tokens; the default key depth (2,048 tokens) keys on block 127.
        let p = prompt(31, blocks: 200)
        let request = RoutingRequest(blockHashes: p, blockSize: 16)
        #expect(strategy.keyed.ringKey(of: request) == p[127].rawValue)
        // The ring position is the mixed key (PrefixAffinity's), not the raw block hash.
        let key = try #require(strategy.keyed.ringPosition(of: request))
        #expect(key == HashSchema.ringPosition(forKey: p[127].rawValue))
        let owner = try #require(rig.withStrategy { fleet, _ in fleet.ringOwner(of: key).map { fleet.id(of: $0) } })
        rig.hold(500, on: owner)
        #expect(rig.route(request)?.replica == owner)
        // Differing after the key depth: same replica.
        let sibling = RoutingRequest(blockHashes: Array(p.prefix(128)) + prompt(32, blocks: 10), blockSize: 16)
        #expect(rig.route(sibling)?.replica == owner)
        // No prefix: the fallback (least outstanding) avoids the loaded owner.
        let fallback = try #require(rig.route(RoutingRequest()))
        #expect(fallback.replica != owner)
        #expect(fallback.reason == .fallback)
    }
}
