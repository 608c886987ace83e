@_spi(Internals) import PrefixRouter
import Testing

@testable import _FleetSimulation

@Suite struct ChurnTests {
    /// The share of the 64-bit key space that `id` owns on the ring of `members` (weight 1 each), computed
    /// from the public point function alone: point *p* owns the keys after the previous point up to *p*.
    static func ringShare(of id: ReplicaID, members: [ReplicaID], virtualNodes: Int) -> Double {
        var points: [(point: UInt64, mine: Bool)] = []
        for member in members {
            for vnode in 0..<virtualNodes {
                points.append((HashRing.point(of: member, virtualNode: vnode), member == id))
            }
        }
        points.sort { $0.point < $1.point }
        var owned = 0.0
        for index in points.indices where points[index].mine {
            let previous = points[(index + points.count - 1) % points.count].point
            owned += Double(points[index].point &- previous)  // wraps for the first point
        }
        return owned / 0x1p64
    }

    /// Removing replica-7 from 8 replicas, then adding it back, probed with the 1,000 requests routed just
    /// before each change.
    ///
    /// Consistent hashing: exactly the probes whose key lies on replica-7's arcs move. Keys are XXH3 hashes of
    /// distinct blocks (the key depth covers every prompt, so each request's key is its own last block), hence
    /// independent and uniform, and `moved` is Binomial(P, s) with s replica-7's share of the ring, computed
    /// here from its points (1/8 up to the virtual nodes' spread: with 160 per replica a share's relative
    /// standard deviation is 1/√160 ≈ 8%, so |s − 1/8| < 0.03 is 3σ). The tolerance is 4σ of the binomial
    /// (σ ≈ 10.5 probes at P = 1,000): a deterministic run, with room for the workload's seed to change.
    ///
    /// Round robin: probe i goes to eligible position (c + i) mod 8 before and (c' + i) mod 7 after (or the
    /// reverse when adding). By the Chinese remainder theorem each of the 7 common replicas gets the same probe
    /// exactly once in every 56 consecutive probes, whatever the offsets and order, so exactly 1/8 stay:
    /// `P − moved` lies in [7⌊P/56⌋, 7⌈P/56⌉]. Round robin therefore moves 7/8 of the keys, 7 times the ring's
    /// share: the point of the comparison.
    ///
    /// Catches: a ring that reshuffles on removal (e.g. `owner = hash mod n`: moved ≈ 7/8), keys moving off
    /// surviving replicas or ring points depending on membership (moved above 4σ), a probe that takes the
    /// change into account on both sides (moved = 0), and a churn measurement that skips, repeats or
    /// reorders probes (round robin leaves its exact window).
    @Test func ringMovesOnlyTheRemovedReplicasShareAndRoundRobinMovesSevenEighths() throws {
        let replicas = 8
        let trace = TestWorkloads.mooncakeLike(requests: 2_500)
        var parameters = TestWorkloads.parameters(replicas: replicas)
        parameters.churn = true
        parameters.keyDepthTokens = 1 << 20
        let report = try BenchRunner.run(
            trace: trace,
            parameters: parameters,
            strategies: ["consistent-hash", "round-robin"].compactMap(StrategyCatalog.entry(named:))
        )
        try #require(report.strategies.count == 2)
        let ring = report.strategies[0]
        let roundRobin = report.strategies[1]
        try #require(ring.strategy == "consistent-hash" && roundRobin.strategy == "round-robin")

        let ids = FleetSimulator.replicaIDs(count: replicas)
        let share = Self.ringShare(of: ids[replicas - 1], members: ids, virtualNodes: parameters.virtualNodes)
        #expect(abs(share - 1 / Double(replicas)) < 0.03, "share \(share)")

        for strategy in [ring, roundRobin] {
            #expect(strategy.churn.map(\.change) == ["remove replica-7", "add replica-7"], "\(strategy.strategy)")
            #expect(strategy.churn.allSatisfy { $0.probes == 1_000 }, "\(strategy.strategy): \(strategy.churn)")
        }
        for change in ring.churn {
            let probes = Double(change.probes)
            let sigma = (probes * share * (1 - share)).squareRoot()
            #expect(abs(Double(change.moved) - probes * share) <= 4 * sigma, "\(change), share \(share)")
        }
        for change in roundRobin.churn {
            let stayed = change.probes - change.moved
            let periods = Double(change.probes) / 56
            #expect(stayed >= 7 * Int(periods.rounded(.down)), "\(change)")
            #expect(stayed <= 7 * Int(periods.rounded(.up)), "\(change)")
        }
        for (keyed, cycled) in zip(ring.churn, roundRobin.churn) {
            #expect(keyed.moved * 4 < cycled.moved, "ring \(keyed), round robin \(cycled)")
        }
    }
}
