import Testing

@_spi(Internals) @testable import PrefixRouter

/// `HashRing`'s bucket table (`firstPoint(atOrAfter:)`) against a plain binary search over the sorted points.
@Suite("Ring bucket table")
struct RingBucketPropertyTests {
    /// Ring sizes in points: the smallest rings, every power of two ±1 from 4 to 4,096 (where the bucket
    /// count changes), a few in between, and 5,000.
    static let sizes: [Int] = {
        var sizes = [1, 2]
        for bits in 2...12 {
            let power = 1 << bits
            sizes += [power - 1, power, power + 1]
        }
        return sizes + [100, 777, 1_000, 2_500, 4_999, 5_000]
    }()

    /// The index of the first point ≥ `key` in sorted `points`, or `points.count`: a plain binary search.
    static func lowerBound(_ key: UInt64, in points: [UInt64]) -> Int {
        var low = 0
        var high = points.count
        while low < high {
            let middle = (low + high) / 2
            if points[middle] < key { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The reference for `firstPoint(atOrAfter:)`: the binary search, wrapping to 0 past the last point.
    static func firstPoint(atOrAfter key: UInt64, in points: [UInt64]) -> Int {
        let index = lowerBound(key, in: points)
        return index == points.count ? 0 : index
    }

    /// Members whose weights × `virtualNodesPerWeight` total exactly `points`, with random weights and a random
    /// divisor of `points` as the virtual nodes per weight.
    static func members(totalling points: Int, using random: inout RandomSource) -> (members: [Replica], vnodes: Int) {
        let divisors = (1...points).filter { points % $0 == 0 && $0 <= 10_000 }
        let vnodes = divisors[random.next(below: divisors.count)]
        let totalWeight = points / vnodes
        let minimumMembers = (totalWeight + Replica.maximumWeight - 1) / Replica.maximumWeight
        let count = Swift.max(minimumMembers, 1 + random.next(below: Swift.min(totalWeight, 12)))
        var weights = [Int](repeating: 1, count: count)
        var remaining = totalWeight - count
        while remaining > 0 {
            let member = random.next(below: count)
            guard weights[member] < Replica.maximumWeight else { continue }
            let add = Swift.min(remaining, Replica.maximumWeight - weights[member], 1 + random.next(below: 64))
            weights[member] += add
            remaining -= add
        }
        let members = weights.enumerated().map { Replica(id: ReplicaID("m\(points)-\($0.offset)"), weight: $0.element) }
        return (members, vnodes)
    }

    /// For each size: the ring's points are exactly its members' points, sorted; and for 0, `UInt64.max`, every
    /// point and its neighbours, every bucket boundary and its predecessor, and 512 random keys, the bucket
    /// lookup finds the same point index as the binary search. Seeded by the size (in every message).
    ///
    /// Catches: the scan's `points[index] < key` → `<=` (a key equal to a point would skip it); dropping the
    /// wrap to 0 (`UInt64.max` above the last point); a bucket start off by one or built with the wrong shift
    /// (keys just below a boundary or just after a point land on the wrong point); a single-bucket ring
    /// (`bucketShift == 64`) shifting by 64; a bucket count too small for the ring at powers of two.
    @Test("Bucket lookup equals binary search", arguments: sizes)
    func bucketLookupEqualsBinarySearch(size: Int) throws {
        let seed = UInt64(size) &* 0x9E37_79B9_7F4A_7C15
        var random = RandomSource(seed: seed)
        let (members, vnodes) = Self.members(totalling: size, using: &random)
        let ring = try HashRing(members: members, virtualNodesPerWeight: vnodes)
        try #require(ring.pointCount == size, "size \(size) seed \(seed)")

        let expectedPoints = members.flatMap { member in
            (0..<(member.weight * vnodes)).map { HashRing.point(of: member.id, virtualNode: $0) }
        }.sorted()
        #expect(ring.points == expectedPoints, "size \(size) seed \(seed)")

        var keys: [UInt64] = [0, 1, UInt64.max, UInt64.max - 1]
        for point in ring.points { keys += [point &- 1, point, point &+ 1] }
        if ring.bucketShift < 64 {
            for bucket in 0..<ring.bucketStarts.count {
                let boundary = UInt64(bucket) << ring.bucketShift
                keys += [boundary &- 1, boundary, boundary &+ 1]
            }
        }
        for _ in 0..<512 { keys.append(random.next()) }
        var mismatches: [UInt64] = []
        for key in keys where ring.firstPoint(atOrAfter: key) != Self.firstPoint(atOrAfter: key, in: ring.points) {
            mismatches.append(key)
        }
        #expect(
            mismatches.isEmpty,
            "size \(size) seed \(seed): \(mismatches.count) keys, first \(mismatches.prefix(5))"
        )
    }

    /// The bucket table on synthetic sorted points that put values exactly on bucket boundaries, just below
    /// them, repeated, and at both ends of the key space (hash points almost never do): every bucket starts
    /// at the first point at or above its lower edge, and there are 2^k buckets with 2^k ≥ the point count
    /// (fewer than twice as many, at least one).
    ///
    /// Catches: `points[index] < lowest` → `<=` in the builder (a point on a boundary would be skipped), a
    /// bucket count below the point count or doubled, and the shift not matching the bucket count.
    @Test("Bucket starts on adversarial points", arguments: sizes)
    func bucketStartsOnAdversarialPoints(size: Int) {
        let seed = UInt64(size) ^ 0xB0C4_E75E_ED00_0000
        var random = RandomSource(seed: seed)
        var bits = 0
        while (1 << bits) < size { bits += 1 }
        let shift = UInt64(64 - bits)
        var points: [UInt64] = []
        for _ in 0..<size {
            let boundary = bits == 0 ? 0 : UInt64(random.next(below: 1 << bits)) << shift
            switch random.next(below: 6) {
            case 0: points.append(boundary)
            case 1: points.append(boundary &- 1)
            case 2: points.append(points.last ?? 0)
            case 3: points.append(random.next(below: 2) == 0 ? 0 : UInt64.max)
            default: points.append(random.next())
            }
        }
        points.sort()
        let (bucketShift, starts) = HashRing.buckets(over: points)
        #expect(starts.count >= size && (starts.count < 2 * size || starts.count == 1), "size \(size) seed \(seed)")
        #expect(starts.count.nonzeroBitCount == 1, "size \(size) seed \(seed)")
        #expect(bucketShift == UInt64(64 - starts.count.trailingZeroBitCount), "size \(size) seed \(seed)")
        let wrong = starts.indices.filter { bucket in
            let lowest = bucketShift == 64 ? 0 : UInt64(bucket) << bucketShift
            return Int(starts[bucket]) != Self.lowerBound(lowest, in: points)
        }
        #expect(wrong.isEmpty, "size \(size) seed \(seed): \(wrong.count) buckets, first \(wrong.prefix(5))")
    }
}
