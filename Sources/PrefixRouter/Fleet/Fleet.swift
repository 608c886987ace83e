/// The replicas, their loads and the ring, as a ``RoutingStrategy`` sees them at the moment it chooses.
///
/// A fleet is owned by a ``FleetRouter`` and lent, read-only, to its strategy under the router's lock, so
/// everything a strategy reads here is consistent with the lease the router takes right after: the
/// bounded-load cap is checked and the chosen replica's count incremented in one critical section.
///
/// Only *eligible* replicas (``ReplicaHealth/up`` and ``AdministrativeState/active``, and not excluded by a
/// retry, see ``Router/route(_:excluding:at:)``) are offered: ``eligibleCount`` and ``eligible(at:)``
/// enumerate them, and every ring lookup skips the others. That is how health, drain and retry filtering
/// apply to every strategy, built-in or custom.
///
/// Loads are compared as outstanding ÷ weight by cross-multiplication (no division, no rounding).
public struct Fleet: Sendable {
    /// A replica's position in the fleet, valid while the fleet's membership does not change.
    public struct Index: Hashable, Comparable, Sendable {
        @usableFromInline let slot: Int
        @usableFromInline init(_ slot: Int) { self.slot = slot }
        /// The slot number (for simulators and diagnostics; not stable across membership changes).
        @_spi(Internals) public var rawValue: Int { slot }
        /// Orders indices by slot number (for deterministic tie-breaks).
        public static func < (lhs: Index, rhs: Index) -> Bool { lhs.slot < rhs.slot }
    }

    @usableFromInline
    struct Slot: Sendable {
        @usableFromInline var id: ReplicaID
        @usableFromInline var weight: Int
        @usableFromInline var health: ReplicaHealth
        @usableFromInline var administrativeState: AdministrativeState
        /// Member, up, active and not excluded by the retry in progress.
        @usableFromInline var isEligible: Bool
        @usableFromInline var outstanding: Int
        @usableFromInline var outstandingTokens: Int
        @usableFromInline var pendingPrefillTokens: Int
        /// Bumped when the replica leaves, so that leases taken before do not count against a newcomer.
        @usableFromInline var generation: UInt64
        @usableFromInline var isMember: Bool
        /// The replica's join number (increasing): orders ``FleetSnapshot/replicas``.
        var joined: UInt64
    }

    @usableFromInline var slots: [Slot] = []
    var freeSlots: [Int] = []
    var slotOfID: [ReplicaID: Int] = [:]
    /// Ring member index → slot.
    @usableFromInline var ringSlots: [Int] = []
    @usableFromInline var eligibleSlots: [Int] = []
    @usableFromInline var eligibleWeight = 0
    var leases = LeaseTable()
    var decisionCounts: [(reason: RoutingReason, count: Int)] = []
    /// The join number of the next replica to join.
    var nextJoin: UInt64 = 0
    var refusals = 0

    /// The consistent-hash ring over every member (eligible or not: a replica marked down keeps its points,
    /// so its keys come back to it when it recovers).
    public private(set) var ring: HashRing
    /// The bounded-load factor `c`, exact in thousandths.
    public let loadFactor: LoadFactor
    /// The least capacity of any replica; see ``FleetConfiguration/minimumCapacity``.
    public let minimumCapacity: Int
    /// Outstanding requests summed over the eligible replicas: the *m* of the bounded-load capacity.
    public private(set) var inFlight = 0
    /// Pending prefill tokens summed over the eligible replicas: the *P* of the work capacity
    /// (``workCapacity(of:requestTokens:)``).
    public private(set) var pendingPrefillTotal = 0
    /// Incremented on every membership, weight, health or administrative change.
    public private(set) var version: UInt64 = 0
    /// The time of the routing call in progress (as passed to ``Router/route(_:excluding:at:)``).
    public internal(set) var now: ContinuousClock.Instant

    init(replicas: [Replica], configuration: FleetConfiguration) throws(PrefixRouterError) {
        try configuration.validate()
        self.loadFactor = try configuration.exactLoadFactor
        self.minimumCapacity = configuration.minimumCapacity
        self.ring = try HashRing(members: replicas, virtualNodesPerWeight: configuration.virtualNodesPerWeight)
        self.now = .now
        for replica in replicas { appendSlot(for: replica) }
        install(ring)
    }

    // MARK: Reading (what strategies use)

    /// The number of eligible replicas.
    @inlinable public var eligibleCount: Int { eligibleSlots.count }

    /// The `position`-th eligible replica, for `position` in `0..<eligibleCount`. O(1).
    @inlinable public func eligible(at position: Int) -> Index { Index(eligibleSlots[position]) }

    /// The total weight of the eligible replicas.
    @inlinable public var totalEligibleWeight: Int { eligibleWeight }

    /// The replica's id. O(1).
    @inlinable public func id(of index: Index) -> ReplicaID { slots[index.slot].id }

    /// The replica's weight. O(1).
    @inlinable public func weight(of index: Index) -> Int { slots[index.slot].weight }

    /// The replica's outstanding (leased, unreleased) requests. O(1).
    @inlinable public func outstanding(of index: Index) -> Int { slots[index.slot].outstanding }

    /// Prompt tokens of the replica's outstanding requests (see ``LeaseCost``). O(1).
    @inlinable public func outstandingTokens(of index: Index) -> Int { slots[index.slot].outstandingTokens }

    /// Uncached prompt tokens of the replica's outstanding requests that have not reported a first token: the
    /// prefill work queued on it, as far as this router knows. O(1).
    @inlinable public func pendingPrefillTokens(of index: Index) -> Int {
        slots[index.slot].pendingPrefillTokens
    }

    /// The replica's health. O(1).
    @inlinable public func health(of index: Index) -> ReplicaHealth { slots[index.slot].health }

    /// The replica's administrative state. O(1).
    @inlinable public func administrativeState(of index: Index) -> AdministrativeState {
        slots[index.slot].administrativeState
    }

    /// Whether `index` names a current member that takes new requests. O(1).
    @inlinable public func isEligible(_ index: Index) -> Bool {
        index.slot >= 0 && index.slot < slots.count && slots[index.slot].isEligible
    }

    /// The index of the member named `id`, or nil. O(1) expected (a dictionary lookup).
    public func index(of id: ReplicaID) -> Index? { slotOfID[id].map(Index.init) }

    /// Whether `a` is less loaded than `b`, comparing outstanding ÷ weight exactly. O(1).
    @inlinable public func isLessLoaded(_ a: Index, than b: Index) -> Bool {
        let sa = slots[a.slot]
        let sb = slots[b.slot]
        return sa.outstanding * sb.weight < sb.outstanding * sa.weight
    }

    /// The bounded-load capacity of a replica:
    /// `max(minimumCapacity, ⌈c · (inFlight + 1) · weight ÷ totalEligibleWeight⌉)`, in exact integer
    /// arithmetic (see ``LoadFactor``).
    ///
    /// `inFlight + 1` counts the request being placed (Mirrokni, Thorup and Zadimoghaddam). A replica
    /// accepts a request while its outstanding count is below its capacity, so no replica is ever pushed past
    /// it. O(1).
    @inlinable public func capacity(of index: Index) -> Int {
        capacity(of: index, loadFactor: loadFactor)
    }

    /// The bounded-load capacity of a replica under another load factor than the fleet's (for strategies that
    /// use the bound as a looser safety net). O(1).
    @inlinable public func capacity(of index: Index, loadFactor: LoadFactor) -> Int {
        loadFactor.capacity(
            inFlight: inFlight,
            weight: slots[index.slot].weight,
            totalWeight: eligibleWeight,
            minimum: minimumCapacity
        )
    }

    /// Whether the replica is below its bounded-load capacity. O(1).
    @inlinable public func hasCapacity(_ index: Index) -> Bool { outstanding(of: index) < capacity(of: index) }

    /// The bounded-load capacity of a replica in pending prefill tokens, for a request of `requestTokens`
    /// uncached tokens: `max(1, ⌈c · (pendingPrefillTotal + requestTokens) · weight ÷ totalEligibleWeight⌉)`,
    /// in exact integer arithmetic (``LoadFactor/capacity(load:adding:weight:totalWeight:minimum:)``).
    ///
    /// A replica accepts the request while its ``pendingPrefillTokens(of:)`` is below this, so a replica with
    /// nothing to prefill always accepts; see ``LoadMeasure/pendingPrefillTokens``. O(1).
    @inlinable public func workCapacity(of index: Index, requestTokens: Int) -> Int {
        loadFactor.capacity(
            load: pendingPrefillTotal,
            adding: requestTokens,
            weight: slots[index.slot].weight,
            totalWeight: eligibleWeight,
            minimum: 1
        )
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
            if slots[slot].isEligible, predicate(Index(slot)) { return Index(slot) }
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
        boundedLoadOwner(of: key, measure: .requests, requestTokens: 0)
    }

    /// Consistent hashing with bounded loads in the given measure: the first eligible replica clockwise from
    /// `key` whose load is below its capacity, ``capacity(of:)`` for ``LoadMeasure/requests`` (then this is
    /// ``boundedLoadOwner(of:)``, and `requestTokens` is ignored) or ``workCapacity(of:requestTokens:)`` for
    /// ``LoadMeasure/pendingPrefillTokens``. If every eligible replica is at capacity, the least loaded one in
    /// the same measure (load ÷ weight, lowest index on ties).
    ///
    /// - Parameters:
    ///   - key: the ring position to walk from.
    ///   - measure: what counts as load.
    ///   - requestTokens: the new request's share of the pending-prefill measure (its uncached prompt tokens,
    ///     or its prompt tokens when the caller has no estimate); negative counts as 0.
    /// - Returns: the replica, and whether it differs from the plain ring owner (a *spill*); nil when no
    ///   replica is eligible.
    /// - Complexity: O(1) expected when the owner has room; O(V) in the worst case. No allocation.
    @inlinable
    public func boundedLoadOwner(
        of key: UInt64,
        measure: LoadMeasure,
        requestTokens: Int
    ) -> (replica: Index, spilled: Bool)? {
        guard !ring.isEmpty, !eligibleSlots.isEmpty else { return nil }
        let byWork = measure == .pendingPrefillTokens
        var point = ring.firstPoint(atOrAfter: key)
        let count = ring.pointCount
        var owner = -1
        for _ in 0..<count {
            let slot = ringSlots[ring.owner(atPoint: point)]
            if slots[slot].isEligible {
                if owner < 0 { owner = slot }
                let hasRoom =
                    byWork
                    ? slots[slot].pendingPrefillTokens < workCapacity(of: Index(slot), requestTokens: requestTokens)
                    : slots[slot].outstanding < capacity(of: Index(slot))
                if hasRoom { return (Index(slot), slot != owner) }
            }
            point = point &+ 1 == count ? 0 : point &+ 1
        }
        // Every eligible replica is full: the least loaded, deterministically.
        var best = eligibleSlots[0]
        for slot in eligibleSlots.dropFirst() {
            let lhs: Int
            let rhs: Int
            if byWork {
                // Tokens ≤ 2^32 per lease and weights ≤ Replica.maximumWeight: wrapping would need 2^20+ leases
                // of 2^32 tokens on one replica; the multiplication reports it rather than trapping.
                lhs = slots[slot].pendingPrefillTokens.multipliedReportingOverflow(by: slots[best].weight).partialValue
                rhs = slots[best].pendingPrefillTokens.multipliedReportingOverflow(by: slots[slot].weight).partialValue
            } else {
                lhs = slots[slot].outstanding * slots[best].weight
                rhs = slots[best].outstanding * slots[slot].weight
            }
            if lhs < rhs || (lhs == rhs && slot < best) { best = slot }
        }
        return (Index(best), best != owner)
    }

    // MARK: Leases (the router's business)

    mutating func acquire(_ index: Index, cost: LeaseCost) -> (entry: UInt32, generation: UInt64) {
        let slot = index.slot
        slots[slot].outstanding += 1
        slots[slot].outstandingTokens += cost.promptTokens
        slots[slot].pendingPrefillTokens += cost.uncachedTokens
        if slots[slot].isEligible {
            inFlight += 1
            pendingPrefillTotal += cost.uncachedTokens
        }
        return leases.acquire(replicaSlot: slot, replicaGeneration: slots[slot].generation, cost: cost)
    }

    mutating func release(entry: UInt32, generation: UInt64) -> Bool {
        guard let charge = leases.release(entry: entry, generation: generation) else { return false }
        let slot = charge.replicaSlot
        if slots[slot].generation == charge.replicaGeneration, slots[slot].isMember {
            slots[slot].outstanding -= 1
            slots[slot].outstandingTokens -= charge.cost.promptTokens
            if charge.wasPrefilling {
                slots[slot].pendingPrefillTokens -= charge.cost.uncachedTokens
                if slots[slot].isEligible { pendingPrefillTotal -= charge.cost.uncachedTokens }
            }
            if slots[slot].isEligible { inFlight -= 1 }
        }
        return true
    }

    mutating func reportFirstToken(entry: UInt32, generation: UInt64) -> Bool {
        guard let charge = leases.reportFirstToken(entry: entry, generation: generation) else { return false }
        let slot = charge.replicaSlot
        if slots[slot].generation == charge.replicaGeneration, slots[slot].isMember {
            slots[slot].pendingPrefillTokens -= charge.cost.uncachedTokens
            if slots[slot].isEligible { pendingPrefillTotal -= charge.cost.uncachedTokens }
        }
        return true
    }

    func isHeld(entry: UInt32, generation: UInt64) -> Bool { leases.isLive(Int(entry), generation) }

    /// Number of live leases (including those whose replica has left).
    var liveLeaseCount: Int { leases.liveCount }

    mutating func count(_ reason: RoutingReason) {
        // A linear scan: a router has a handful of reasons, and comparing small strings is two word compares,
        // cheaper than hashing them. A plain loop: iterating `indices` went through an unspecialised generic.
        var position = 0
        let count = decisionCounts.count
        while position < count {
            if decisionCounts[position].reason == reason {
                decisionCounts[position].count &+= 1
                return
            }
            position &+= 1
        }
        decisionCounts.append((reason, 1))
    }

    mutating func countRefusal() { refusals &+= 1 }

    // MARK: Retries

    /// Makes the named members ineligible until ``restore(_:)``, as if they were down, and returns their slots
    /// (only those that were eligible). They leave the in-flight total and the eligible weight too, so the
    /// bounded-load capacity is that of the fleet without them. O(n); allocates (a retry path, not the
    /// common one).
    mutating func exclude(_ ids: [ReplicaID]) -> [Int] {
        var excluded: [Int] = []
        for id in ids {
            guard let slot = slotOfID[id], slots[slot].isEligible else { continue }
            slots[slot].isEligible = false
            excluded.append(slot)
        }
        if !excluded.isEmpty { recountEligible() }
        return excluded
    }

    /// Undoes ``exclude(_:)``.
    mutating func restore(_ excluded: [Int]) {
        guard !excluded.isEmpty else { return }
        for slot in excluded { slots[slot].isEligible = true }
        recountEligible()
    }

    // MARK: Membership (the router's business)

    /// Members in join order, as configured.
    var members: [Replica] {
        memberSlots.map { Replica(id: slots[$0].id, weight: slots[$0].weight) }
    }

    private var memberSlots: [Int] {
        slots.indices.filter { slots[$0].isMember }.sorted { slots[$0].joined < slots[$1].joined }
    }

    /// Adds `replica` and installs `ring`, built by the caller (outside the lock) over ``members`` plus it.
    mutating func add(_ replica: Replica, ring: HashRing) throws(PrefixRouterError) {
        guard slotOfID[replica.id] == nil else {
            throw PrefixRouterError(.duplicateReplicaID, "replica id \(replica.id): already a member")
        }
        if let reused = freeSlots.popLast() {
            slots[reused] = joiningSlot(for: replica, generation: slots[reused].generation)
            slotOfID[replica.id] = reused
        } else {
            appendSlot(for: replica)
        }
        install(ring)
    }

    /// Removes the member `id` and installs `ring`, built by the caller over the remaining members.
    mutating func remove(_ id: ReplicaID, ring: HashRing) throws(PrefixRouterError) {
        let slot = try slot(of: id)
        slotOfID[id] = nil
        slots[slot].isMember = false
        slots[slot].isEligible = false
        slots[slot].outstanding = 0
        slots[slot].outstandingTokens = 0
        slots[slot].pendingPrefillTokens = 0
        slots[slot].generation &+= 1
        freeSlots.append(slot)
        install(ring)
    }

    /// Changes a member's weight and installs `ring`, built by the caller with the new weight.
    mutating func setWeight(_ weight: Int, of id: ReplicaID, ring: HashRing) throws(PrefixRouterError) {
        let slot = try slot(of: id)
        slots[slot].weight = weight
        install(ring)
    }

    mutating func setHealth(_ health: ReplicaHealth, of id: ReplicaID) throws(PrefixRouterError) {
        let slot = try slot(of: id)
        guard slots[slot].health != health else { return }
        slots[slot].health = health
        recomputeEligibility()
    }

    mutating func setAdministrativeState(_ state: AdministrativeState, of id: ReplicaID) throws(PrefixRouterError) {
        let slot = try slot(of: id)
        guard slots[slot].administrativeState != state else { return }
        slots[slot].administrativeState = state
        recomputeEligibility()
    }

    func slot(of id: ReplicaID) throws(PrefixRouterError) -> Int {
        guard let slot = slotOfID[id] else {
            throw PrefixRouterError(.unknownReplica, "replica id \(id): not a member of the fleet")
        }
        return slot
    }

    private mutating func appendSlot(for replica: Replica) {
        slotOfID[replica.id] = slots.count
        slots.append(joiningSlot(for: replica, generation: 0))
    }

    /// A slot for a replica joining now (up, active, no load), taking the next join number. Eligibility is set
    /// when the ring is installed.
    private mutating func joiningSlot(for replica: Replica, generation: UInt64) -> Slot {
        defer { nextJoin &+= 1 }
        return Slot(
            id: replica.id,
            weight: replica.weight,
            health: .up,
            administrativeState: .active,
            isEligible: false,
            outstanding: 0,
            outstandingTokens: 0,
            pendingPrefillTokens: 0,
            generation: generation,
            isMember: true,
            joined: nextJoin
        )
    }

    private mutating func install(_ newRing: HashRing) {
        ring = newRing
        ringSlots = ring.members.map { slotOfID[$0.id] ?? -1 }
        assert(!ringSlots.contains(-1) && ringSlots.count == slotOfID.count, "the ring's members are not the fleet's")
        recomputeEligibility()
    }

    private mutating func recomputeEligibility() {
        for slot in slots.indices {
            slots[slot].isEligible =
                slots[slot].isMember && slots[slot].health == .up && slots[slot].administrativeState == .active
        }
        recountEligible()
        version &+= 1
    }

    private mutating func recountEligible() {
        eligibleSlots = slots.indices.filter { slots[$0].isEligible }
        eligibleWeight = eligibleSlots.reduce(0) { $0 + slots[$1].weight }
        inFlight = eligibleSlots.reduce(0) { $0 + slots[$1].outstanding }
        pendingPrefillTotal = eligibleSlots.reduce(0) { $0 + slots[$1].pendingPrefillTokens }
    }

    // MARK: Snapshots

    func snapshot() -> FleetSnapshot {
        FleetSnapshot(
            version: version,
            replicas: memberSlots.map { slot in
                let s = slots[slot]
                return ReplicaSnapshot(
                    id: s.id,
                    weight: s.weight,
                    health: s.health,
                    administrativeState: s.administrativeState,
                    outstanding: s.outstanding,
                    capacity: s.isEligible ? capacity(of: Index(slot)) : 0,
                    outstandingTokens: s.outstandingTokens,
                    pendingPrefillTokens: s.pendingPrefillTokens
                )
            },
            inFlight: inFlight,
            eligibleWeight: eligibleWeight,
            liveLeases: liveLeaseCount,
            loadFactor: loadFactor,
            minimumCapacity: minimumCapacity,
            decisions: Dictionary(decisionCounts, uniquingKeysWith: +),
            refusals: refusals
        )
    }
}
