@_spi(Internals) @_spi(Simulation) import PrefixRouter
import Testing

/// Consistent hashing with loads bounded in pending prefill tokens (``LoadMeasure/pendingPrefillTokens``),
/// checked against an independent model of the fleet.
@Suite("Bounded loads in work")
struct WorkBoundedLoadTests {
    struct Model {
        var weight: [ReplicaID: Int] = [:]
        var health: [ReplicaID: ReplicaHealth] = [:]
        var draining: Set<ReplicaID> = []
        var pending: [ReplicaID: Int] = [:]

        func isEligible(_ id: ReplicaID) -> Bool { health[id] == .up && !draining.contains(id) }
        var eligible: [ReplicaID] { weight.keys.filter(isEligible).sorted() }
        var pendingTotal: Int { eligible.reduce(0) { $0 + pending[$1, default: 0] } }
        var eligibleWeight: Int { eligible.reduce(0) { $0 + weight[$1, default: 0] } }

        /// `max(1, ⌈k · (P + x) · w ÷ (1000 · W)⌉)` in plain integer arithmetic (inputs stay far below 2^63).
        func capacity(of id: ReplicaID, requestTokens: Int, thousandths: Int) -> Int {
            let numerator = thousandths * (pendingTotal + requestTokens) * weight[id, default: 0]
            let denominator = 1_000 * eligibleWeight
            return max(1, (numerator + denominator - 1) / denominator)
        }
    }

    struct Live {
        var replica: ReplicaID
        var lease: Lease
        var tokens: Int
        var prefilling = true
        /// False once the replica was removed: nothing the lease does may touch any count then.
        var counted = true
    }

    /// 100 seeds × 800 operations: route requests of 1 to 100,000 tokens (hot keys half the time), report
    /// first tokens, release, add, remove, reweigh, mark down/up, drain/undrain. At every assignment the
    /// router's choice must be the model's: the first eligible replica on the key's spill order whose pending
    /// work is below its work capacity (the capacities sum to c · (P + x) > P, so one always has room and the
    /// "all full" fallback is unreachable). After every operation the router's pending tokens per replica
    /// must match the model's.
    ///
    /// Catches: `<` → `<=` in the work check, the capacity counting requests instead of tokens (or ignoring
    /// the request's own tokens `x`), a pending total that counts down, draining or removed replicas, or that
    /// is not lowered at the first token or at a release during prefill, and a walk that skips the owner.
    @Test("The chosen replica is the first on the walk below its work capacity", arguments: 0..<100)
    func workCapacityIsRespected(seed: Int) throws {
        var random = RandomSource(seed: UInt64(seed) &+ 1_000)
        let thousandths = [1_050, 1_100, 1_250, 1_500, 2_000][seed % 5]
        var model = Model()
        var spare = replicaIDs(10, prefix: "w\(seed)-")
        var initial: [Replica] = []
        for _ in 0..<(2 + random.next(below: 5)) {
            let id = spare.removeLast()
            let replica = Replica(id: id, weight: 1 + random.next(below: 3))
            initial.append(replica)
            model.weight[id] = replica.weight
            model.health[id] = .up
        }
        let router = try FleetRouter(
            replicas: initial,
            strategy: try PrefixAffinity(loadMeasure: .pendingPrefillTokens, fallback: LeastOutstanding(seed: 1)),
            configuration: FleetConfiguration(
                loadFactor: Double(thousandths) / 1_000,
                virtualNodesPerWeight: 40,
                minimumCapacity: 4  // a request floor must not apply to the work bound
            )
        )
        var live: [Live] = []
        let hotKeys = (0..<3).map { _ in random.next() }
        var spills = 0

        for step in 0..<800 {
            let roll = random.next(below: 100)
            if roll < 45 {
                let key = random.next(below: 2) == 0 ? hotKeys[random.next(below: 3)] : random.next()
                let tokens = 1 + random.next(below: 100_000)
                let order = router.ring.spillOrder(of: HashSchema.ringPosition(forKey: key))
                let expected = order.first { id in
                    model.isEligible(id)
                        && model.pending[id, default: 0]
                            < model.capacity(of: id, requestTokens: tokens, thousandths: thousandths)
                }
                let request = RoutingRequest(blockHashes: [BlockHash(key)], blockSize: 16, tokenCount: tokens)
                guard let decision = router.route(request) else {
                    #expect(model.eligible.isEmpty, "seed \(seed) step \(step): refused with eligible replicas")
                    continue
                }
                #expect(expected != nil, "seed \(seed) step \(step): every replica full")
                #expect(decision.replica == expected, "seed \(seed) step \(step): chose \(decision.replica)")
                let owner = order.first(where: model.isEligible)
                #expect((decision.reason == .spill) == (decision.replica != owner), "seed \(seed) step \(step)")
                if decision.reason == .spill { spills += 1 }
                model.pending[decision.replica, default: 0] += tokens
                live.append(Live(replica: decision.replica, lease: decision.lease, tokens: tokens))
            } else if roll < 65 {
                guard let position = live.indices.filter({ live[$0].prefilling }).randomElement(using: &random)
                else { continue }
                #expect(live[position].lease.reportFirstToken(), "seed \(seed) step \(step)")
                live[position].prefilling = false
                if live[position].counted { model.pending[live[position].replica, default: 0] -= live[position].tokens }
            } else if roll < 88 {
                guard !live.isEmpty else { continue }
                let item = live.remove(at: random.next(below: live.count))
                #expect(item.lease.release(), "seed \(seed) step \(step)")
                if item.counted, item.prefilling { model.pending[item.replica, default: 0] -= item.tokens }
            } else if roll < 91, !spare.isEmpty {
                let id = spare.removeLast()
                let weight = 1 + random.next(below: 3)
                try router.add(Replica(id: id, weight: weight))
                (model.weight[id], model.health[id], model.pending[id]) = (weight, .up, 0)
                model.draining.remove(id)
            } else if roll < 93, model.weight.count > 1,
                let id = model.weight.keys.sorted().randomElement(using: &random)
            {
                try router.remove(id)
                for index in live.indices where live[index].replica == id { live[index].counted = false }
                (model.weight[id], model.health[id], model.pending[id]) = (nil, nil, nil)
                model.draining.remove(id)
                spare.append(id)
            } else if roll < 95, let id = model.weight.keys.sorted().randomElement(using: &random) {
                let weight = 1 + random.next(below: 3)
                try router.setWeight(weight, of: id)
                model.weight[id] = weight
            } else if let id = model.weight.keys.sorted().randomElement(using: &random) {
                switch random.next(below: 4) {
                case 0:
                    try router.markUp(id)
                    model.health[id] = .up
                case 1:
                    try router.markDown(id)
                    model.health[id] = .down
                case 2:
                    try router.drain(id)
                    model.draining.insert(id)
                default:
                    try router.undrain(id)
                    model.draining.remove(id)
                }
            }
            for replica in router.snapshot().replicas {
                #expect(
                    replica.pendingPrefillTokens == model.pending[replica.id, default: 0],
                    "seed \(seed) step \(step) \(replica.id)"
                )
            }
            #expect(router.withStrategy { fleet, _ in fleet.pendingPrefillTotal } == model.pendingTotal, "seed \(seed)")
        }
        // Hot keys of up to 100,000 tokens must have spilled somewhere, or the walk was never exercised.
        #expect(spills > 0, "seed \(seed)")
        for item in live { item.lease.release() }
    }

    /// Catches: a work bound that ignores the request's own tokens (`P` instead of `P + x`), which would send
    /// a long prompt away from a nearly idle owner; and the request floor leaking into the work bound.
    @Test("An owner with a little pending work keeps a long request; a loaded owner spills it")
    func ownerKeepsWhileBelowShare() throws {
        let router = try FleetRouter(
            replicaIDs: replicaIDs(4),
            strategy: try PrefixAffinity(loadMeasure: .pendingPrefillTokens, fallback: LeastOutstanding(seed: 1)),
            configuration: FleetConfiguration(loadFactor: 1.25, minimumCapacity: 100)
        )
        let key: UInt64 = 0xDEAD_BEEF
        func request(_ tokens: Int) -> RoutingRequest {
            RoutingRequest(blockHashes: [BlockHash(key)], blockSize: 16, tokenCount: tokens)
        }
        let first = try #require(router.route(request(1_000)))
        #expect(first.reason == .affinity)
        // Owner holds 1,000 of P = 1,000; x = 100,000: capacity ⌈1.25 · 101,000 ÷ 4⌉ = 31,563 > 1,000.
        let second = try #require(router.route(request(100_000)))
        #expect(second.replica == first.replica && second.reason == .affinity)
        // Owner holds 101,000 of P = 101,000; x = 1,000: capacity ⌈1.25 · 102,000 ÷ 4⌉ = 31,875 ≤ 101,000.
        let third = try #require(router.route(request(1_000)))
        #expect(third.replica != first.replica && third.reason == .spill)
        // After the first token the owner's work is gone and it takes the key again (the request count,
        // 2 outstanding, is below the floor of 100 either way, so only the work measure can spill above).
        #expect(second.lease.reportFirstToken() && first.lease.reportFirstToken())
        let fourth = try #require(router.route(request(1_000)))
        #expect(fourth.replica == first.replica && fourth.reason == .affinity)
        for decision in [first, second, third, fourth] { decision.lease.release() }
    }

    /// Catches: the request-count form no longer being `capacity(load:adding: 1)`, and a floating-point or
    /// overflowing evaluation of the work form.
    @Test("The work capacity is the request capacity's formula with the request's tokens as its share")
    func capacityFormula() throws {
        let factor = try LoadFactor(thousandths: 1_100)
        for inFlight in 0..<200 {
            #expect(
                factor.capacity(inFlight: inFlight, weight: 2, totalWeight: 7)
                    == factor.capacity(load: inFlight, adding: 1, weight: 2, totalWeight: 7)
            )
        }
        // ⌈1100 · (49,000 + 1,000) ÷ 1000⌉ = 55,000 exactly (1.1 × 50,000 in doubles is 55,000.00000000001, whose ceiling is 55,001).
        #expect(factor.capacity(load: 49_000, adding: 1_000, weight: 1, totalWeight: 1) == 55_000)
        #expect(factor.capacity(load: 0, adding: 0, weight: 1, totalWeight: 8) == 1)
        #expect(factor.capacity(load: Int.max, adding: Int.max, weight: 1, totalWeight: 1) == Int.max)
        #expect(factor.capacity(load: -5, adding: 10, weight: 1, totalWeight: 1) == 11)
    }
}
