/// A ``Router`` over a mutable set of replicas, placing requests with a ``RoutingStrategy``, and the
/// ``FleetControl`` of that set.
///
/// The router owns the fleet (members, weights, health, drain state, outstanding counts and costs, the ring,
/// the live leases) and the strategy's state, both guarded by one lock (a pthread mutex; see `LockedState`
/// for why not `Synchronization.Mutex`). A route call takes the lock once: the strategy chooses, the router
/// checks the choice is eligible and increments its counts, and returns a decision whose ``Lease``
/// decrements them when released. Counts are therefore exact under any number of concurrent callers, and the
/// bounded-load cap is never exceeded at the moment of assignment.
///
/// Membership changes may happen concurrently with routing. They are serialised by a second lock, taken
/// before the routing lock and never after it; a change that moves ring points builds the new ring outside
/// the routing lock (O(V log V) for V points) and swaps it in, so routing stalls only for the swap (O(n)).
///
/// Why one lock and not atomics: the bounded-load check ("is this replica below its cap?") and the
/// increment must be one atomic step, and a strategy's own state (round-robin counter, random generator,
/// session table) must move with it. The critical section is a few hundred nanoseconds; at 10,000 requests
/// a second per gateway the lock is idle over 99% of the time.
///
/// - Complexity: ``route(_:excluding:at:)`` is the strategy's cost plus O(1) (plus O(n) when `excluded` is
///   not empty); membership changes O(V log V) outside the routing lock.
public final class FleetRouter<Strategy: RoutingStrategy>: Router, FleetControl {
    /// The fleet behind its lock. Non-generic, and what leases report back to, so that taking and releasing a
    /// lease run no generic code: no runtime metadata lookups on the request path, whatever the strategy.
    let ledger: LeaseLedger

    /// Serialises membership changes, so that a ring built outside the routing lock from a snapshot of the
    /// membership is still the right one when it is swapped in. Lock order: `control`, then `ledger.fleet`.
    private let control = LockedState(())

    /// The strategy's state. Guarded by `ledger.fleet`'s lock: read and written only inside
    /// `ledger.fleet.withLock`, so it moves with the fleet in one critical section. Not inside the locked
    /// state itself because a lock over a generic `State<Strategy>` costs runtime metadata lookups per call in
    /// unspecialized code (about 45% of a route + release, measured with callgrind). The lock also makes
    /// accesses exclusive, hence no dynamic exclusivity check (about 5% of a route + release).
    @exclusivity(unchecked) nonisolated(unsafe) private var strategy: Strategy

    /// Ring points per unit of weight (fixed for the router's life).
    private let virtualNodesPerWeight: Int

    /// Creates a router over `replicas` (possibly none: replicas can be added later).
    ///
    /// - Throws: ``PrefixRouterError`` when a replica id is empty or repeated, a weight is out of range, or
    ///   the configuration is invalid.
    public init(
        replicas: [Replica] = [],
        strategy: Strategy,
        configuration: FleetConfiguration = FleetConfiguration()
    ) throws(PrefixRouterError) {
        var fleet = try Fleet(replicas: replicas, configuration: configuration)
        var strategy = strategy
        strategy.fleetDidChange(fleet)
        fleet.now = .now
        self.strategy = strategy
        self.virtualNodesPerWeight = configuration.virtualNodesPerWeight
        self.ledger = LeaseLedger(fleet)
    }

    /// Creates a router over replicas of weight 1 named by `ids`.
    public convenience init(
        replicaIDs ids: [ReplicaID],
        strategy: Strategy,
        configuration: FleetConfiguration = FleetConfiguration()
    ) throws(PrefixRouterError) {
        try self.init(replicas: ids.map { Replica(id: $0) }, strategy: strategy, configuration: configuration)
    }

    /// Chooses an eligible replica, other than those in `excluded`, with the strategy and leases it; nil when
    /// no replica is eligible or the strategy refuses.
    ///
    /// The lease's cost is the request's ``RoutingRequest/tokenCount``, less the strategy's estimate of the
    /// tokens the replica caches (``RoutingChoice/cachedTokens``).
    ///
    /// - Complexity: the strategy's cost plus O(1), allocation-free in steady state for the library's
    ///   strategies; O(n) more, and an allocation, when `excluded` names an eligible replica.
    public func route(
        _ request: RoutingRequest,
        excluding excluded: [ReplicaID],
        at now: ContinuousClock.Instant
    ) -> RoutingDecision? {
        ledger.fleet.withLock { fleet -> RoutingDecision? in
            fleet.now = now
            var choice: RoutingChoice?
            if excluded.isEmpty {
                choice = fleet.eligibleCount > 0 ? strategy.choose(for: request, in: fleet) : nil
            } else {
                let removed = fleet.exclude(excluded)
                choice = fleet.eligibleCount > 0 ? strategy.choose(for: request, in: fleet) : nil
                fleet.restore(removed)
                if let chosen = choice?.replica, removed.contains(chosen.slot) { choice = nil }
            }
            guard let choice, fleet.isEligible(choice.replica) else {
                fleet.countRefusal()
                return nil
            }
            let cost = LeaseCost(promptTokens: request.tokenCount, cachedTokens: choice.cachedTokens)
            let (entry, generation) = fleet.acquire(choice.replica, cost: cost)
            fleet.count(choice.reason)
            return RoutingDecision(
                replica: fleet.id(of: choice.replica),
                reason: choice.reason,
                lease: Lease(owner: ledger, entry: entry, generation: generation, cost: cost)
            )
        }
    }

    // MARK: Membership

    /// Adds a replica (up and active). Keys move only onto it.
    ///
    /// - Throws: ``PrefixRouterError`` if the id is empty or already a member, or the weight is invalid.
    /// - Complexity: O(V log V) outside the routing lock, O(n) under it.
    public func add(_ replica: Replica) throws(PrefixRouterError) {
        try changeMembership { (members: [Replica]) throws(PrefixRouterError) in
            guard !members.contains(where: { $0.id == replica.id }) else {
                throw PrefixRouterError(.duplicateReplicaID, "replica id \(replica.id): already a member")
            }
            return members + [replica]
        } apply: { (fleet: inout Fleet, ring: HashRing) throws(PrefixRouterError) in
            try fleet.add(replica, ring: ring)
        }
    }

    /// Removes a replica. Its keys move to their next replicas clockwise; no other key moves. Its live
    /// leases stay valid to release and no longer count anywhere.
    ///
    /// - Throws: ``PrefixRouterError`` with code ``PrefixRouterError/Code/unknownReplica``.
    /// - Complexity: O(V log V) outside the routing lock, O(n) under it.
    public func remove(_ id: ReplicaID) throws(PrefixRouterError) {
        try changeMembership { (members: [Replica]) throws(PrefixRouterError) in
            guard members.contains(where: { $0.id == id }) else {
                throw PrefixRouterError(.unknownReplica, "replica id \(id): not a member of the fleet")
            }
            return members.filter { $0.id != id }
        } apply: { (fleet: inout Fleet, ring: HashRing) throws(PrefixRouterError) in
            try fleet.remove(id, ring: ring)
        }
    }

    /// Changes a replica's weight (its ring points and its share of the capacity).
    ///
    /// - Throws: ``PrefixRouterError`` for an unknown replica or an invalid weight.
    /// - Complexity: O(V log V) outside the routing lock, O(n) under it; nothing when the weight is unchanged.
    public func setWeight(_ weight: Int, of id: ReplicaID) throws(PrefixRouterError) {
        try changeMembership { (members: [Replica]) throws(PrefixRouterError) in
            guard let position = members.firstIndex(where: { $0.id == id }) else {
                throw PrefixRouterError(.unknownReplica, "replica id \(id): not a member of the fleet")
            }
            guard members[position].weight != weight else { return nil }
            var changed = members
            changed[position].weight = weight
            return changed
        } apply: { (fleet: inout Fleet, ring: HashRing) throws(PrefixRouterError) in
            try fleet.setWeight(weight, of: id, ring: ring)
        }
    }

    /// Marks a replica unhealthy: no new requests; its ring points stay so its keys return when it recovers.
    public func markDown(_ id: ReplicaID) throws(PrefixRouterError) {
        try change { (fleet: inout Fleet) throws(PrefixRouterError) in try fleet.setHealth(.down, of: id) }
    }

    /// Marks a replica healthy. A draining replica stays draining.
    public func markUp(_ id: ReplicaID) throws(PrefixRouterError) {
        try change { (fleet: inout Fleet) throws(PrefixRouterError) in try fleet.setHealth(.up, of: id) }
    }

    /// Starts draining a replica: no new requests while its leases finish, whatever its health. Poll
    /// ``outstanding(of:)`` until it reaches 0, then ``remove(_:)`` it.
    public func drain(_ id: ReplicaID) throws(PrefixRouterError) {
        try change { (fleet: inout Fleet) throws(PrefixRouterError) in
            try fleet.setAdministrativeState(.draining, of: id)
        }
    }

    /// Ends a drain: the replica takes new requests again when healthy.
    public func undrain(_ id: ReplicaID) throws(PrefixRouterError) {
        try change { (fleet: inout Fleet) throws(PrefixRouterError) in
            try fleet.setAdministrativeState(.active, of: id)
        }
    }

    /// Gives the strategy feedback from outside the request path, under the routing lock.
    ///
    /// - Complexity: the strategy's ``RoutingStrategy/observe(_:in:)``.
    public func observe(_ feedback: RoutingFeedback) {
        ledger.fleet.withLock { fleet in strategy.observe(feedback, in: fleet) }
    }

    /// A change that leaves the ring as it is.
    private func change(_ body: (inout Fleet) throws(PrefixRouterError) -> Void) throws(PrefixRouterError) {
        try control.withLock { (_: inout Void) throws(PrefixRouterError) in
            try ledger.fleet.withLock { (fleet: inout Fleet) throws(PrefixRouterError) in
                try body(&fleet)
                strategy.fleetDidChange(fleet)
            }
        }
    }

    /// A change that moves ring points: `newMembers` maps the current members to the new ones (nil: nothing
    /// to do); the ring is built from them outside the routing lock, then `apply` installs it.
    private func changeMembership(
        _ newMembers: ([Replica]) throws(PrefixRouterError) -> [Replica]?,
        apply: (inout Fleet, HashRing) throws(PrefixRouterError) -> Void
    ) throws(PrefixRouterError) {
        try control.withLock { (_: inout Void) throws(PrefixRouterError) in
            let current = ledger.fleet.withLock { $0.members }
            guard let members = try newMembers(current) else { return }
            let ring = try HashRing(members: members, virtualNodesPerWeight: virtualNodesPerWeight)
            try ledger.fleet.withLock { (fleet: inout Fleet) throws(PrefixRouterError) in
                try apply(&fleet, ring)
                strategy.fleetDidChange(fleet)
            }
        }
    }

    // MARK: Inspection

    /// A consistent, read-only view of the fleet: members in join order with their loads and capacities,
    /// in-flight, version and decision counters.
    ///
    /// - Complexity: O(n log n); allocates. Takes the routing lock once.
    public func snapshot() -> FleetSnapshot { ledger.fleet.withLock { $0.snapshot() } }

    /// Every member with its state and outstanding count, in the order they joined. O(n log n); allocates.
    public var replicas: [ReplicaSnapshot] { snapshot().replicas }

    /// A replica's outstanding count, or nil if it is not a member. O(1).
    public func outstanding(of id: ReplicaID) -> Int? {
        ledger.fleet.withLock { fleet in fleet.index(of: id).map { fleet.outstanding(of: $0) } }
    }

    /// The current ring (a value: it does not change under you).
    public var ring: HashRing { ledger.fleet.withLock { $0.ring } }

    /// Leases taken and not yet released, including those whose replica has left. O(1).
    public var liveLeaseCount: Int { ledger.fleet.withLock { $0.liveLeaseCount } }

    /// Runs `body` with the fleet and the strategy under the routing lock: for simulators and tests that probe
    /// or pin the strategy. Not for services: `body` must not call back into the router (DEBUG builds stop
    /// with a message when it does; release builds deadlock). Use ``snapshot()`` and ``observe(_:)`` instead.
    @_spi(Simulation)
    public func withStrategy<Result, Failure: Error>(
        _ body: (Fleet, inout Strategy) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try ledger.fleet.withLock { (fleet: inout Fleet) throws(Failure) -> Result in
            try body(fleet, &strategy)
        }
    }
}
