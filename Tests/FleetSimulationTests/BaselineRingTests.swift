@_spi(Internals) import PrefixRouter
import Testing
import _FleetSimulation

private func ids(_ count: Int) -> [ReplicaID] { (0..<count).map { ReplicaID("pod-\($0)") } }

@Suite struct BaselineKubeAITests {
    @Test func acceptanceCountsThePlacedRequestWithLessOrEqualAndNoCeiling() throws {
        let kubeai = try KubeAICHWBL()
        // total 7 over 5 endpoints: threshold (7 + 1) / 5 × 1.25 = 2.0 exactly.
        #expect(kubeai.accepts(inFlight: 1, total: 7, endpoints: 5))  // 1 + 1 ≤ 2.0: equality accepts
        #expect(!kubeai.accepts(inFlight: 2, total: 7, endpoints: 5))
        // total 6: threshold 1.75, not rounded up: an endpoint with 1 in flight is refused.
        #expect(!kubeai.accepts(inFlight: 1, total: 6, endpoints: 5))
        #expect(kubeai.accepts(inFlight: 0, total: 6, endpoints: 5))
        // Nothing in flight anywhere: everyone accepts.
        #expect(kubeai.accepts(inFlight: 0, total: 0, endpoints: 1_000))
        // Many endpoints, low load: the threshold (1 + 1) / 100 × 1.25 = 0.025 refuses even an idle endpoint.
        #expect(!kubeai.accepts(inFlight: 0, total: 1, endpoints: 100))
        // The documented reading (no "+ 1" on the left) accepts an idle endpoint there.
        let described = try KubeAICHWBL(rule: .withoutPlacedRequest)
        #expect(described.accepts(inFlight: 0, total: 1, endpoints: 100))
        #expect(described.accepts(inFlight: 1, total: 6, endpoints: 5))  // 1 ≤ 1.75
    }

    /// With 6 in flight over 5 endpoints the threshold is 1.75: KubeAI moves a key off an owner holding 1,
    /// while our bounded-load owner (capacity ceil(1.25 · 7 / 5) = 2) keeps it.
    @Test func withoutCeilingKubeAISpillsWhereOurBoundKeepsTheOwner() throws {
        let replicas = ids(5)
        let rig = try LoadRig(replicas, KubeAICHWBL(), configuration: KubeAICHWBL.fleetConfiguration)
        let p = prompt(21, blocks: 3)
        let key = p[0].rawValue
        let owner = try #require(rig.withStrategy { fleet, _ in fleet.ringOwner(of: key).map { fleet.id(of: $0) } })
        // The owner holds 1, one other endpoint 5, the remaining three none: 6 in flight.
        rig.hold(1, on: owner)
        rig.hold(5, on: try #require(replicas.first { $0 != owner }))
        #expect(rig.withStrategy { fleet, _ in fleet.inFlight } == 6)
        let ours = rig.withStrategy { fleet, _ in fleet.boundedLoadOwner(of: key).map { fleet.id(of: $0.replica) } }
        #expect(ours == owner)
        let decision = try #require(rig.route(RoutingRequest(blockHashes: p, blockSize: 16)))
        #expect(decision.replica != owner)
        #expect(decision.reason == KubeAICHWBL.spillReason)
    }

    /// kubeai PR #519/#528: with many endpoints and low load the threshold drops below 1, no endpoint
    /// accepts, and every request lands on its ring owner, however loaded. Our bounded-load owner spreads them.
    @Test func manyEndpointsAndLowLoadPileOntoTheRingOwner() throws {
        let replicas = ids(100)
        let rig = try LoadRig(replicas, KubeAICHWBL(), configuration: KubeAICHWBL.fleetConfiguration)
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

    /// The documented literal reading (`in_flight ≤ …`) does not reproduce the failure: an idle endpoint always
    /// accepts, so the hot key walks to the next idle endpoint. Kept to document why `.shipped` is the default.
    @Test func theLiteralReadingDoesNotPileUp() throws {
        let rig = try LoadRig(
            ids(100),
            KubeAICHWBL(rule: .withoutPlacedRequest),
            configuration: KubeAICHWBL.fleetConfiguration
        )
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
