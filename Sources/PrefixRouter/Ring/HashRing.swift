/// An immutable consistent-hash ring over a set of replicas, with virtual nodes and weights.
///
/// Each replica of weight *w* owns `w × virtualNodesPerWeight` points. The point of virtual node *i* of
/// replica *r* is XXH3-64 (seed ``pointSeed``) of a separator-safe encoding of `(r, i)`: the little-endian
/// byte length of *r*'s UTF-8 id, the id's bytes, then *i* as a little-endian 64-bit integer. Unlike
/// `name + decimal(i)` (KubeAI), no two `(id, i)` pairs share an encoding, so `pod-1`/`12` and `pod-11`/`2`
/// get different points.
///
/// A key belongs to the replica of the first point at or after it, clockwise, wrapping at the top. Points
/// depend only on replica ids and weights, so every process that builds a ring from the same membership
/// gets the same ring, and removing a replica moves only the keys it owned.
///
/// The ring is a value: a router rebuilds it when membership or weights change and swaps it in.
///
/// - Complexity: building is O(V log V) for V points; ``owner(of:)`` is O(1) expected (a bucket table of
///   about one 4-byte entry per point finds the key's neighbourhood; a short scan finishes).
public struct HashRing: Sendable {
    /// The seed of every point hash. Fixed forever: changing it would move every key in every deployment.
    public static let pointSeed: UInt64 = 0x5052_4546_4958_5247  // "PREFIXRG"

    /// The default number of virtual nodes per unit of weight: nginx's 160 (`ngx_http_upstream_hash_module`),
    /// which keeps the plain ring's max ÷ mean load within about 1.3 at 64 replicas.
    public static let defaultVirtualNodesPerWeight = 160

    /// The accepted range of virtual nodes per unit of weight.
    public static let virtualNodesRange = 1...10_000

    /// The most points one replica may own: `weight × virtualNodesPerWeight` must not exceed it (32,768; with
    /// the default 160 virtual nodes, weights up to 204).
    ///
    /// The bound is per replica, not on the ring's total, so that each replica's points depend on its own
    /// weight alone: scaling weights down to fit a total would move keys between replicas that did not change
    /// when another joins, breaking minimal disruption. It keeps a ring of 64 replicas within 2 million points
    /// (about 0.2 s to build, off the routing lock) instead of the 10 million that weight 1,000 would give.
    public static let maximumPointsPerReplica = 32_768

    /// The members, in the order given to the initialiser.
    public let members: [Replica]
    /// Virtual nodes per unit of weight.
    public let virtualNodesPerWeight: Int

    /// Sorted point positions.
    @usableFromInline let points: [UInt64]
    /// `owners[i]` is the index into ``members`` of the replica owning `points[i]`.
    @usableFromInline let owners: [Int32]
    /// `bucketStarts[b]` is the index of the first point at or above `b << bucketShift`: a lookup starts there
    /// and scans the few points of its bucket instead of binary-searching the whole ring.
    @usableFromInline let bucketStarts: [Int32]
    /// 64 minus the number of bucket bits (about one point per bucket).
    @usableFromInline let bucketShift: UInt64

    /// Builds the ring.
    ///
    /// - Throws: ``PrefixRouterError`` when an id is empty or repeated, a weight is out of range,
    ///   `virtualNodesPerWeight` is outside ``virtualNodesRange``, or a replica would own more than
    ///   ``maximumPointsPerReplica`` points.
    /// - Complexity: O(V log V) where V is the total number of points.
    public init(
        members: [Replica],
        virtualNodesPerWeight: Int = HashRing.defaultVirtualNodesPerWeight
    ) throws(PrefixRouterError) {
        guard HashRing.virtualNodesRange.contains(virtualNodesPerWeight) else {
            throw PrefixRouterError(
                .invalidVirtualNodes,
                "virtualNodesPerWeight: expected 1...10000, found \(virtualNodesPerWeight)"
            )
        }
        var seen = Set<ReplicaID>()
        for member in members {
            try HashRing.validate(member, virtualNodesPerWeight: virtualNodesPerWeight)
            guard seen.insert(member.id).inserted else {
                throw PrefixRouterError(.duplicateReplicaID, "replica id \(member.id): appears more than once")
            }
        }
        var entries: [(point: UInt64, owner: Int32)] = []
        entries.reserveCapacity(members.reduce(0) { $0 + $1.weight } * virtualNodesPerWeight)
        var scratch: [UInt8] = []
        for (memberIndex, member) in members.enumerated() {
            for vnode in 0..<(member.weight * virtualNodesPerWeight) {
                entries.append(
                    (HashRing.point(of: member.id, virtualNode: vnode, scratch: &scratch), Int32(memberIndex))
                )
            }
        }
        // Ties (a 64-bit collision) are broken by id so that the order never depends on input order.
        entries.sort { a, b in
            a.point != b.point ? a.point < b.point : members[Int(a.owner)].id < members[Int(b.owner)].id
        }
        self.members = members
        self.virtualNodesPerWeight = virtualNodesPerWeight
        self.points = entries.map(\.point)
        self.owners = entries.map(\.owner)
        (self.bucketShift, self.bucketStarts) = HashRing.buckets(over: points)
    }

    /// Validates a replica for a ring of `virtualNodesPerWeight` virtual nodes per unit of weight: its id, its
    /// weight, and its point count against ``maximumPointsPerReplica``.
    static func validate(_ replica: Replica, virtualNodesPerWeight: Int) throws(PrefixRouterError) {
        try replica.validate()
        let points = replica.weight * virtualNodesPerWeight  // both bounded above: no overflow
        guard points <= maximumPointsPerReplica else {
            throw PrefixRouterError(
                .invalidWeight,
                "replica \(replica.id): weight: \(replica.weight) × \(virtualNodesPerWeight) virtual nodes = \(points) "
                    + "ring points, expected at most \(maximumPointsPerReplica) (lower the weight or "
                    + "virtualNodesPerWeight)"
            )
        }
    }

    /// Bucket starts for sorted `points`: 2^k buckets with 2^k ≥ the point count (at least 1 bucket). O(V).
    static func buckets(over points: [UInt64]) -> (shift: UInt64, starts: [Int32]) {
        var bits = 0
        while bits < 24, (1 << bits) < points.count { bits += 1 }
        let shift = UInt64(64 - bits)
        var starts = [Int32](repeating: Int32(points.count), count: 1 << bits)
        var index = 0
        for bucket in 0..<starts.count {
            let lowest = bits == 0 ? 0 : UInt64(bucket) << shift
            while index < points.count, points[index] < lowest { index += 1 }
            starts[bucket] = Int32(index)
        }
        return (shift, starts)
    }

    /// The position on the ring of virtual node `virtualNode` of replica `id`. Pure and stable.
    @_spi(Internals) public static func point(of id: ReplicaID, virtualNode: Int) -> UInt64 {
        var scratch: [UInt8] = []
        return point(of: id, virtualNode: virtualNode, scratch: &scratch)
    }

    static func point(of id: ReplicaID, virtualNode: Int, scratch: inout [UInt8]) -> UInt64 {
        scratch.removeAll(keepingCapacity: true)
        let utf8 = id.rawValue.utf8
        withUnsafeBytes(of: UInt64(utf8.count).littleEndian) { scratch.append(contentsOf: $0) }
        scratch.append(contentsOf: utf8)
        withUnsafeBytes(of: UInt64(virtualNode).littleEndian) { scratch.append(contentsOf: $0) }
        return scratch.withUnsafeBytes { XXH3.hash($0, seed: pointSeed) }
    }

    /// The number of points on the ring.
    @inlinable
    public var pointCount: Int { points.count }

    /// Whether the ring has no members.
    @inlinable
    public var isEmpty: Bool { points.isEmpty }

    /// The index of the first point at or after `key`, wrapping to 0 past the last point.
    ///
    /// Starts at the key's bucket (the top bits of the key) and scans forward: points are hash values, so a
    /// bucket holds about one point.
    ///
    /// - Precondition: the ring is not empty.
    /// - Complexity: O(1) expected; O(V) in the worst case.
    @inlinable
    func firstPoint(atOrAfter key: UInt64) -> Int {
        let bucket = bucketShift == 64 ? 0 : Int(truncatingIfNeeded: key >> bucketShift)
        var index = Int(bucketStarts[bucket])
        let count = points.count
        while index < count, points[index] < key { index &+= 1 }
        return index == count ? 0 : index
    }

    /// The index into ``members`` of the member owning point index `pointIndex`.
    @inlinable
    func owner(atPoint pointIndex: Int) -> Int { Int(owners[pointIndex]) }

    /// The replica that owns `key` on the plain ring (no load bound, no health), or nil for an empty ring.
    ///
    /// - Complexity: O(1) expected.
    public func owner(of key: UInt64) -> ReplicaID? {
        guard !points.isEmpty else { return nil }
        return members[owner(atPoint: firstPoint(atOrAfter: key))].id
    }

    /// The distinct members in the clockwise order met from `key`: the owner first, then the replicas a
    /// bounded-load lookup spills to, in order. A pure function of `(key, membership)`.
    ///
    /// - Complexity: O(V) in the worst case; allocates the result.
    @_spi(Internals) public func spillOrder(of key: UInt64) -> [ReplicaID] {
        guard !points.isEmpty else { return [] }
        var seen = [Bool](repeating: false, count: members.count)
        var order: [ReplicaID] = []
        order.reserveCapacity(members.count)
        var index = firstPoint(atOrAfter: key)
        for _ in 0..<points.count where order.count < members.count {
            let member = owner(atPoint: index)
            if !seen[member] {
                seen[member] = true
                order.append(members[member].id)
            }
            index = index &+ 1 == points.count ? 0 : index &+ 1
        }
        return order
    }
}
