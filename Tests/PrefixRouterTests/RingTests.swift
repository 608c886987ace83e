@_spi(Internals) import PrefixRouter
import Testing

@Suite("Consistent-hash ring")
struct RingTests {
    static let keys: [UInt64] = {
        var random = RandomSource(seed: 0xD15C)
        return (0..<200_000).map { _ in random.next() }
    }()

    @Test("Removing one replica of 64 moves only its keys, about 1/64 of them")
    func removalDisruption() throws {
        let ids = replicaIDs(64)
        let before = try HashRing(members: ids.map { Replica(id: $0) })
        let removed = ids[17]
        let after = try HashRing(members: ids.filter { $0 != removed }.map { Replica(id: $0) })
        var moved = 0
        var movedBetweenSurvivors = 0
        for key in Self.keys {
            let old = try #require(before.owner(of: key))
            let new = try #require(after.owner(of: key))
            if old != new {
                moved += 1
                if old != removed { movedBetweenSurvivors += 1 }
            }
            #expect(new != removed)
        }
        #expect(movedBetweenSurvivors == 0)
        let share = Double(moved) / Double(Self.keys.count)
        #expect(share >= 0.5 / 64 && share <= 2.0 / 64, "moved share \(share)")
    }

    @Test("Adding one replica moves keys only onto the new replica")
    func additionDisruption() throws {
        let ids = replicaIDs(64)
        let before = try HashRing(members: ids.map { Replica(id: $0) })
        let after = try HashRing(members: (ids + ["newcomer"]).map { Replica(id: $0) })
        var moved = 0
        for key in Self.keys {
            let old = try #require(before.owner(of: key))
            let new = try #require(after.owner(of: key))
            if old != new {
                #expect(new == "newcomer")
                moved += 1
            }
        }
        let share = Double(moved) / Double(Self.keys.count)
        #expect(share >= 0.5 / 65 && share <= 2.0 / 65, "moved share \(share)")
    }

    @Test("Plain ring balance: 64 replicas x 160 vnodes, 200,000 keys, max/mean <= 1.30")
    func plainBalance() throws {
        let ids = replicaIDs(64)
        let ring = try HashRing(members: ids.map { Replica(id: $0) })
        #expect(ring.pointCount == 64 * 160)
        var counts: [ReplicaID: Int] = [:]
        for key in Self.keys { counts[try #require(ring.owner(of: key)), default: 0] += 1 }
        let mean = Double(Self.keys.count) / 64
        let maximum = Double(counts.values.max() ?? 0)
        #expect(maximum / mean <= 1.30, "max/mean \(maximum / mean)")
    }

    @Test("Weights scale ring points and share of keys")
    func weights() throws {
        let ring = try HashRing(members: [Replica(id: "heavy", weight: 3), Replica(id: "light", weight: 1)])
        #expect(ring.pointCount == 4 * 160)
        var heavy = 0
        for key in Self.keys.prefix(40_000) where ring.owner(of: key) == "heavy" { heavy += 1 }
        let share = Double(heavy) / 40_000
        #expect(share > 0.65 && share < 0.85, "heavy share \(share)")
    }

    @Test("Ring is independent of member order")
    func orderIndependence() throws {
        let ids = replicaIDs(10)
        let a = try HashRing(members: ids.map { Replica(id: $0) })
        let b = try HashRing(members: ids.reversed().map { Replica(id: $0) })
        for key in Self.keys.prefix(10_000) { #expect(a.owner(of: key) == b.owner(of: key)) }
    }

    @Test("Point encoding is separator-safe: pod-1/12 and pod-11/2 differ")
    func separatorSafety() {
        #expect(HashRing.point(of: "pod-1", virtualNode: 12) != HashRing.point(of: "pod-11", virtualNode: 2))
    }

    @Test("Spill order lists every member once, owner first")
    func spillOrder() throws {
        let ids = replicaIDs(12)
        let ring = try HashRing(members: ids.map { Replica(id: $0) })
        for key in Self.keys.prefix(500) {
            let order = ring.spillOrder(of: key)
            #expect(order.count == 12)
            #expect(Set(order).count == 12)
            #expect(order.first == ring.owner(of: key))
        }
    }
}
