/// The replicas, their loads and the ring, as a ``RoutingStrategy`` sees them at the moment it chooses.
///
/// A fleet is owned by a ``FleetRouter`` and lent, read-only, to its strategy under the router's lock, so
/// everything a strategy reads here is consistent with the lease the router takes right after: the
/// bounded-load cap is checked and the chosen replica's count incremented in one critical section.
///
/// Only *eligible* replicas (status ``ReplicaStatus/up``) are offered: ``eligibleCount`` and
/// ``eligible(at:)`` enumerate them, and every ring lookup skips the others. That is how health and drain
/// filtering apply to every strategy, built-in or custom.
///
/// Loads are compared as outstanding ÷ weight by cross-multiplication (no division, no rounding).
public struct Fleet: Sendable {
    /// A replica's position in the fleet, valid while the fleet's membership does not change.
    public struct Index: Hashable, Comparable, Sendable {
        /// The slot number.
        public let rawValue: Int
        @usableFromInline init(_ rawValue: Int) { self.rawValue = rawValue }
        public static func < (lhs: Index, rhs: Index) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    @usableFromInline
    struct Slot: Sendable {
        @usableFromInline var id: ReplicaID
        @usableFromInline var weight: Int
        @usableFromInline var status: ReplicaStatus
        @usableFromInline var outstanding: Int
        /// Bumped when the replica leaves, so that leases taken before do not count against a newcomer.
        @usableFromInline var generation: UInt32
        @usableFromInline var isMember: Bool
    }

    @usableFromInline var slots: [Slot] = []
    var freeSlots: [Int] = []
    var slotOfID: [ReplicaID: Int] = [:]
    /// Ring member index → slot.
    @usableFromInline var ringSlots: [Int] = []
    @usableFromInline var eligibleSlots: [Int] = []
    @usableFromInline var eligibleWeight = 0
    var leases = LeaseTable()

    /// The consistent-hash ring over every member (eligible or not: a replica marked down keeps its points,
    /// so its keys come back to it when it recovers).
    public private(set) var ring: HashRing
    /// The bounded-load factor `c` (> 1).
    public let loadFactor: Double
    /// The least capacity of any replica; see ``FleetConfiguration/minimumCapacity``.
    public let minimumCapacity: Int
    /// Outstanding requests summed over the eligible replicas: the *m* of the bounded-load capacity.
    public private(set) var inFlight = 0
    /// Incremented on every membership, weight or status change.
    public private(set) var version: UInt64 = 0
    /// The time of the routing call in progress (as passed to ``Router/route(_:at:)``).
    public internal(set) var now: ContinuousClock.Instant

    init(replicas: [Replica], configuration: FleetConfiguration) throws(PrefixRouterError) {
        try configuration.validate()
        self.loadFactor = configuration.loadFactor
        self.minimumCapacity = configuration.minimumCapacity
        self.ring = try HashRing(members: replicas, virtualNodesPerWeight: configuration.virtualNodesPerWeight)
        self.now = .now
        for replica in replicas {
            slotOfID[replica.id] = slots.count
            slots.append(Slot(id: replica.id, weight: replica.weight, status: .up, outstanding: 0, generation: 0, isMember: true))
        }
        try rebuildRing()
    }

    // MARK: Reading (what strategies use)

    /// The number of eligible replicas.
    @inlinable public var eligibleCount: Int { eligibleSlots.count }

    /// The `position`-th eligible replica, for `position` in `0..<eligibleCount`. O(1).
    @inlinable public func eligible(at position: Int) -> Index { Index(eligibleSlots[position]) }

    /// The total weight of the eligible replicas.
    @inlinable public var totalEligibleWeight: Int { eligibleWeight }

    /// The replica's id. O(1).
    @inlinable public func id(of index: Index) -> ReplicaID { slots[index.rawValue].id }

    /// The replica's weight. O(1).
    @inlinable public func weight(of index: Index) -> Int { slots[index.rawValue].weight }

    /// The replica's outstanding (leased, unreleased) requests. O(1).
    @inlinable public func outstanding(of index: Index) -> Int { slots[index.rawValue].outstanding }

    /// The replica's status. O(1).
    @inlinable public func status(of index: Index) -> ReplicaStatus { slots[index.rawValue].status }

    /// Whether `index` names a current member that takes new requests. O(1).
    @inlinable public func isEligible(_ index: Index) -> Bool {
        index.rawValue >= 0 && index.rawValue < slots.count && slots[index.rawValue].isMember
            && slots[index.rawValue].status == .up
    }

    /// The index of the member named `id`, or nil. O(1) expected (a dictionary lookup).
    public func index(of id: ReplicaID) -> Index? { slotOfID[id].map(Index.init) }

    /// Whether `a` is less loaded than `b`, comparing outstanding ÷ weight exactly. O(1).
    @inlinable public func isLessLoaded(_ a: Index, than b: Index) -> Bool {
        let sa = slots[a.rawValue], sb = slots[b.rawValue]
        return sa.outstanding * sb.weight < sb.outstanding * sa.weight
    }

    /// Whether `a` and `b` carry the same outstanding ÷ weight. O(1).
    @inlinable public func isEquallyLoaded(_ a: Index, _ b: Index) -> Bool {
        let sa = slots[a.rawValue], sb = slots[b.rawValue]
        return sa.outstanding * sb.weight == sb.outstanding * sa.weight
    }

    /// The bounded-load capacity of a replica:
    /// `max(minimumCapacity, ceil(c · (inFlight + 1) · weight ÷ totalEligibleWeight))`.
    ///
    /// `inFlight + 1` counts the request being placed (Mirrokni, Thorup and Zadimoghaddam). A replica
    /// accepts a request while its outstanding count is below its capacity, so no replica is ever pushed past
    /// it. O(1).
    @inlinable public func capacity(of index: Index) -> Int {
        capacity(of: index, loadFactor: loadFactor)
    }

    /// The bounded-load capacity of a replica under another load factor than the fleet's (for strategies that
    /// use the bound as a looser safety net): `max(minimumCapacity, ceil(loadFactor · (inFlight + 1) · weight
    /// ÷ totalEligibleWeight))`. O(1).
    @inlinable public func capacity(of index: Index, loadFactor: Double) -> Int {
        capacity(weight: slots[index.rawValue].weight, scale: capacityScale(loadFactor: loadFactor))
    }

    /// Whether the replica is below its bounded-load capacity. O(1).
    @inlinable public func hasCapacity(_ index: Index) -> Bool { outstanding(of: index) < capacity(of: index) }

    /// `loadFactor · (inFlight + 1) ÷ totalEligibleWeight`: the capacity per unit of weight, before rounding.
    @inlinable func capacityScale(loadFactor: Double) -> Double {
        eligibleWeight > 0 ? loadFactor * Double(inFlight + 1) / Double(eligibleWeight) : 0
    }

    @inlinable func capacity(weight: Int, scale: Double) -> Int {
        Swift.max(minimumCapacity, Int((scale * Double(weight)).rounded(.up)))
    }

    /// The least loaded eligible replica (outstanding ÷ weight), ties broken uniformly at random, or nil if
    /// no replica is eligible.
    ///
    /// - Complexity: O(n) over the eligible replicas (two passes: find the minimum and count its ties, then
    ///   take the k-th tie); one random draw when there is a tie, none otherwise.
    @inlinable
    public func leastLoaded(using random: inout some RandomNumberGenerator) -> Index? {
        guard !eligibleSlots.isEmpty else { return nil }
        var best = eligibleSlots[0]
        var ties = 1
        for position in 1..<eligibleSlots.count {
            let candidate = eligibleSlots[position]
            let lhs = slots[candidate].outstanding * slots[best].weight
            let rhs = slots[best].outstanding * slots[candidate].weight
            if lhs < rhs {
                best = candidate
                ties = 1
            } else if lhs == rhs {
                ties &+= 1
            }
        }
        guard ties > 1 else { return Index(best) }
        var remaining = Int(random.next(upperBound: UInt64(ties)))
        let (outstanding, weight) = (slots[best].outstanding, slots[best].weight)
        for slot in eligibleSlots where slots[slot].outstanding * weight == outstanding * slots[slot].weight {
            if remaining == 0 { return Index(slot) }
            remaining &-= 1
        }
        return Index(best)
    }

    /// The first eligible replica clockwise from `key` on the ring that satisfies `predicate`, or nil.
    ///
    /// Walks the points from the key's position for at most one turn. A replica owns many points, so
    /// `predicate` may be called more than once for the same replica; it must be a pure function of the
    /// replica during one walk. The visiting order is a pure function of `(key, membership)`.
    ///
    /// - Complexity: O(1) expected to find the start, then O(V) in the worst case (every replica rejected).
    @inlinable
    public func firstOnRing(from key: UInt64, where predicate: (Index) -> Bool) -> Index? {
        guard !ring.isEmpty, !eligibleSlots.isEmpty else { return nil }
        var point = ring.firstPoint(atOrAfter: key)
        let count = ring.pointCount
        for _ in 0..<count {
            let slot = ringSlots[ring.owner(atPoint: point)]
            if slots[slot].status == .up, predicate(Index(slot)) { return Index(slot) }
            point = point &+ 1 == count ? 0 : point &+ 1
        }
        return nil
    }

    /// The owner of `key` on the plain consistent-hash ring restricted to eligible replicas (no load bound).
    ///
    /// - Complexity: O(1) expected; O(V) when many replicas are ineligible.
    @inlinable
    public func ringOwner(of key: UInt64) -> Index? { firstOnRing(from: key) { _ in true } }

    /// Consistent hashing with bounded loads: the first eligible replica clockwise from `key` whose
    /// outstanding count is below its ``capacity(of:)``. If every eligible replica is at capacity, the least
    /// loaded one (lowest index on ties, so the answer stays deterministic; admission control is the
    /// caller's concern).
    ///
    /// - Returns: the replica, and whether it differs from the plain ring owner (a *spill*); nil when no
    ///   replica is eligible.
    /// - Complexity: O(1) expected when the owner has room; O(V) in the worst case.
    @inlinable
    public func boundedLoadOwner(of key: UInt64) -> (replica: Index, spilled: Bool)? {
        guard !ring.isEmpty, !eligibleSlots.isEmpty else { return nil }
        let scale = capacityScale(loadFactor: loadFactor)
        var point = ring.firstPoint(atOrAfter: key)
        let count = ring.pointCount
        var owner = -1
        for _ in 0..<count {
            let slot = ringSlots[ring.owner(atPoint: point)]
            let s = slots[slot]
            if s.status == .up {
                if owner < 0 { owner = slot }
                if s.outstanding < capacity(weight: s.weight, scale: scale) {
                    return (Index(slot), slot != owner)
                }
            }
            point = point &+ 1 == count ? 0 : point &+ 1
        }
        // Every eligible replica is full: the least loaded, deterministically.
        var best = eligibleSlots[0]
        for slot in eligibleSlots.dropFirst() {
            let lhs = slots[slot].outstanding * slots[best].weight
            let rhs = slots[best].outstanding * slots[slot].weight
            if lhs < rhs || (lhs == rhs && slot < best) { best = slot }
        }
        return (Index(best), best != owner)
    }

    // MARK: Changing (the router's business)

    mutating func acquire(_ index: Index) -> (entry: UInt32, generation: UInt32) {
        slots[index.rawValue].outstanding += 1
        if slots[index.rawValue].status == .up { inFlight += 1 }
        return leases.acquire(replicaSlot: index.rawValue, replicaGeneration: slots[index.rawValue].generation)
    }

    mutating func release(entry: UInt32, generation: UInt32) -> Bool {
        guard let (slot, slotGeneration) = leases.release(entry: entry, generation: generation) else { return false }
        if slots[slot].generation == slotGeneration, slots[slot].isMember {
            slots[slot].outstanding -= 1
            if slots[slot].status == .up { inFlight -= 1 }
        }
        return true
    }

    func isHeld(entry: UInt32, generation: UInt32) -> Bool {
        let index = Int(entry)
        return index < leases.entries.count && leases.entries[index].generation == generation
            && leases.entries[index].replicaSlot >= 0
    }

    /// Number of live leases (including those whose replica has left).
    var liveLeaseCount: Int { leases.liveCount }

    mutating func add(_ replica: Replica) throws(PrefixRouterError) {
        try replica.validate()
        guard slotOfID[replica.id] == nil else {
            throw PrefixRouterError(.duplicateReplicaID, "replica id \(replica.id): already a member")
        }
        let slot: Int
        if let reused = freeSlots.popLast() {
            slot = reused
            slots[slot] = Slot(
                id: replica.id, weight: replica.weight, status: .up, outstanding: 0,
                generation: slots[slot].generation, isMember: true)
        } else {
            slot = slots.count
            slots.append(Slot(id: replica.id, weight: replica.weight, status: .up, outstanding: 0, generation: 0, isMember: true))
        }
        slotOfID[replica.id] = slot
        try rebuildRing()
    }

    mutating func remove(_ id: ReplicaID) throws(PrefixRouterError) {
        let slot = try slot(of: id)
        slotOfID[id] = nil
        slots[slot].isMember = false
        slots[slot].outstanding = 0
        slots[slot].generation &+= 1
        freeSlots.append(slot)
        try rebuildRing()
    }

    mutating func setWeight(_ weight: Int, of id: ReplicaID) throws(PrefixRouterError) {
        let slot = try slot(of: id)
        try Replica.validate(weight: weight, of: id)
        guard slots[slot].weight != weight else { return }
        slots[slot].weight = weight
        try rebuildRing()
    }

    mutating func setStatus(_ status: ReplicaStatus, of id: ReplicaID) throws(PrefixRouterError) {
        let slot = try slot(of: id)
        guard slots[slot].status != status else { return }
        slots[slot].status = status
        recomputeEligibility()
    }

    func slot(of id: ReplicaID) throws(PrefixRouterError) -> Int {
        guard let slot = slotOfID[id] else {
            throw PrefixRouterError(.unknownReplica, "replica id \(id): not a member of the fleet")
        }
        return slot
    }

    /// Members in slot order, as configured.
    var members: [Replica] {
        slots.filter(\.isMember).map { Replica(id: $0.id, weight: $0.weight) }
    }

    var snapshots: [ReplicaSnapshot] {
        slots.filter(\.isMember).map {
            ReplicaSnapshot(id: $0.id, weight: $0.weight, status: $0.status, outstanding: $0.outstanding)
        }
    }

    private mutating func rebuildRing() throws(PrefixRouterError) {
        ring = try HashRing(members: members, virtualNodesPerWeight: ring.virtualNodesPerWeight)
        ringSlots = ring.members.map { slotOfID[$0.id] ?? -1 }
        recomputeEligibility()
    }

    private mutating func recomputeEligibility() {
        eligibleSlots = slots.indices.filter { slots[$0].isMember && slots[$0].status == .up }
        eligibleWeight = eligibleSlots.reduce(0) { $0 + slots[$1].weight }
        inFlight = eligibleSlots.reduce(0) { $0 + slots[$1].outstanding }
        version &+= 1
    }
}
