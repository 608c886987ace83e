import Testing

@_spi(Internals) @testable import PrefixRouter

/// The bounded-load capacity in exact integer arithmetic (`LoadFactor`), and the configuration bounds that
/// keep every value on the routing path in range.
@Suite("Exact load bound and configuration ranges")
struct LoadFactorTests {
    // Catches: a floating-point capacity (1.1 × 50 = 55.000000000000007 rounds up to 56).
    @Test("c = 1.1, one replica, m = 49 gives 55, as README's formula does")
    func readmeExample() throws {
        let factor = try LoadFactor(1.1)
        #expect(factor.thousandths == 1_100)
        #expect(factor.capacity(inFlight: 49, weight: 1, totalWeight: 1) == 55)
        let router = try FleetRouter(
            replicaIDs: ["a"],
            strategy: RoundRobin(),
            configuration: FleetConfiguration(loadFactor: 1.1)
        )
        let held = try (0..<49).map { _ in try #require(router.route(RoutingRequest())).lease }
        #expect(router.snapshot().replica("a")?.capacity == 55)
        for lease in held { lease.release() }
    }

    // Catches: any rounding or ordering difference from the independent reference over a wide input range.
    @Test("The capacity equals the independent integer reference for random inputs", arguments: 0..<4)
    func matchesReference(seed: Int) throws {
        var random = RandomSource(seed: UInt64(seed) &+ 900)
        for _ in 0..<5_000 {
            let thousandths = LoadFactor.thousandthsRange.lowerBound + random.next(below: 5_000)
            let factor = try LoadFactor(thousandths: thousandths)
            let weight = 1 + random.next(below: 1_000)
            let total = weight + random.next(below: 100_000)
            let inFlight = random.next(below: 1_000_000)
            let minimum = 1 + random.next(below: 16)
            let expected = max(
                minimum,
                expectedCapacity(
                    loadFactorThousandths: thousandths,
                    inFlight: inFlight,
                    weight: weight,
                    totalWeight: total
                )
            )
            #expect(
                factor.capacity(inFlight: inFlight, weight: weight, totalWeight: total, minimum: minimum) == expected,
                "k \(thousandths) m \(inFlight) w \(weight) W \(total)"
            )
        }
    }

    // Catches: a conversion that traps on huge inputs (`Int(Double.greatestFiniteMagnitude)`), or a product that
    // overflows.
    @Test("Huge or invalid load factors are errors, huge loads saturate; nothing traps")
    func extremes() throws {
        for bad in [Double.greatestFiniteMagnitude, .infinity, -.infinity, .nan, 1, 1.0004, 0, -2, 100.001, 1e300] {
            #expect(throws: PrefixRouterError.self, "\(bad)") { _ = try LoadFactor(bad) }
            #expect(throws: PrefixRouterError.self, "\(bad)") {
                _ = try FleetRouter(
                    replicaIDs: ["a"],
                    strategy: RoundRobin(),
                    configuration: FleetConfiguration(loadFactor: bad)
                )
            }
            #expect(throws: PrefixRouterError.self, "\(bad)") {
                _ = try CacheAware(loadFactor: bad, fallback: RoundRobin())
            }
        }
        #expect(try LoadFactor(100).thousandths == 100_000)
        #expect(try LoadFactor(1.001).thousandths == 1_001)
        let largest = try LoadFactor(100)
        #expect(largest.capacity(inFlight: Int.max, weight: 1_000, totalWeight: 1) == Int.max)
        #expect(largest.capacity(inFlight: Int.max - 1, weight: 1, totalWeight: Int.max) >= 1)
        #expect(largest.capacity(inFlight: -7, weight: 1, totalWeight: 1) == 100)  // negative counts as 0
        #expect(largest.capacity(inFlight: 3, weight: 1, totalWeight: 0, minimum: 5) == 5)
    }

    // Catches: a ring that grows with absolute weights without bound (64 × 1,000 × 160 = 10M points).
    @Test("A replica's ring points are bounded; the error names the replica and the fix")
    func ringPointsAreBounded() throws {
        #expect(throws: PrefixRouterError.self) { _ = try HashRing(members: [Replica(id: "big", weight: 1_000)]) }
        do {
            _ = try FleetRouter(replicas: [Replica(id: "big", weight: 205)], strategy: RoundRobin())
            Issue.record("expected an error")
        } catch {
            #expect(error.code == .invalidWeight)
            #expect(error.message.contains("big") && error.message.contains("32768"))
        }
        let router = try FleetRouter(replicas: [Replica(id: "a", weight: 204)], strategy: RoundRobin())
        #expect(router.ring.pointCount == 204 * 160)
        #expect(throws: PrefixRouterError.self) { try router.setWeight(205, of: "a") }
        #expect(throws: PrefixRouterError.self) { try router.add(Replica(id: "b", weight: 300)) }
        #expect(router.replicas.map(\.id) == ["a"])  // nothing half-applied
        let fine = try FleetRouter(
            replicas: [Replica(id: "a", weight: 1_000)],
            strategy: RoundRobin(),
            configuration: FleetConfiguration(virtualNodesPerWeight: 32)
        )
        #expect(fine.ring.pointCount == 32_000)
    }

    // Catches: a weight change that rebuilds the ring without moving keys onto the heavier replica, or a
    // membership change whose ring is not swapped in.
    @Test("Membership changes install a ring built from the new membership")
    func ringFollowsMembership() throws {
        let router = try FleetRouter(replicaIDs: replicaIDs(4), strategy: RoundRobin())
        try router.setWeight(3, of: "r1")
        #expect(router.ring.pointCount == (3 + 3) * 160)
        let expected = try HashRing(members: [
            Replica(id: "r0"), Replica(id: "r1", weight: 3), Replica(id: "r2"), Replica(id: "r3"),
        ])
        #expect(router.ring.points == expected.points)
        #expect(
            stride(from: UInt64(0), to: UInt64.max - (1 << 54), by: 1 << 54).allSatisfy {
                router.ring.owner(of: $0) == expected.owner(of: $0)
            }
        )
        try router.remove("r0")
        try router.add(Replica(id: "r9", weight: 2))
        #expect(router.ring.pointCount == (3 + 2 + 2) * 160)
        try router.setWeight(3, of: "r1")  // unchanged: no rebuild, no version bump
        let version = router.snapshot().version
        try router.setWeight(3, of: "r1")
        #expect(router.snapshot().version == version)
    }
}
