/// A ``Router`` over a mutable set of replicas, placing requests with a ``RoutingStrategy``.
///
/// The router owns the fleet (members, weights, statuses, outstanding counts, the ring, the live leases)
/// and the strategy's state, both guarded by one lock (the fleet's: a pthread mutex; see `LockedState` for why
/// not `Synchronization.Mutex`). A route call takes the lock once: the strategy chooses, the router checks the
/// choice is eligible and increments its count, and returns a decision whose
/// ``Lease`` decrements it when released. Counts are therefore exact under any number of concurrent
/// callers, and the bounded-load cap is never exceeded at the moment of assignment.
///
/// Membership changes (``add(_:)``, ``remove(_:)``, ``setWeight(_:of:)``, ``markDown(_:)``, ``markUp(_:)``,
/// ``drain(_:)``) may happen concurrently with routing; the ring is rebuilt under the lock (O(V log V)),
/// so make them at control-plane rates, not per request.
///
/// Why one lock and not atomics: the bounded-load check ("is this replica below its cap?") and the
/// increment must be one atomic step, and a strategy's own state (round-robin counter, random generator,
/// session table) must move with it. The critical section is a few hundred nanoseconds; at 10,000 requests
/// a second per gateway the lock is idle over 99% of the time.
///
/// - Complexity: ``route(_:at:)`` is the strategy's cost plus O(1); membership changes O(V log V).
public final class FleetRouter<Strategy: RoutingStrategy>: Router {
    /// The fleet behind its lock. Non-generic, and what leases report back to, so that taking and releasing a
    /// lease run no generic code: no runtime metadata lookups on the request path, whatever the strategy.
    let ledger: LeaseLedger

    /// The strategy's state. Guarded by `ledger.fleet`'s lock: read and written only inside
    /// `ledger.fleet.withLock` (in `route`, `change` and `withFleet`), so it moves with the fleet in one
    /// critical section. Not inside the locked state itself because a lock over a generic `State<Strategy>`
    /// costs runtime metadata lookups per call in unspecialized code (about 45% of a route + release,
    /// measured with callgrind). The lock also makes accesses exclusive, hence no dynamic exclusivity check
    /// (about 5% of a route + release).
    @exclusivity(unchecked) nonisolated(unsafe) private var strategy: Strategy

    /// Creates a router over `replicas` (possibly none: replicas can be added later).
    ///
    /// - Throws: ``PrefixRouterError`` when a replica id is empty or repeated, a weight is out of range, or
    ///   the configuration is invalid.
    public init(
        replicas: [Replica] = [], strategy: Strategy, configuration: FleetConfiguration = FleetConfiguration()
    ) throws(PrefixRouterError) {
        var fleet = try Fleet(replicas: replicas, configuration: configuration)
        var strategy = strategy
        strategy.fleetDidChange(fleet)
        fleet.now = .now
        self.strategy = strategy
        self.ledger = LeaseLedger(fleet)
    }

    /// Creates a router over replicas of weight 1 named by `ids`.
    public convenience init(
        replicaIDs ids: [ReplicaID], strategy: Strategy, configuration: FleetConfiguration = FleetConfiguration()
    ) throws(PrefixRouterError) {
        try self.init(replicas: ids.map { Replica(id: $0) }, strategy: strategy, configuration: configuration)
    }

    /// Chooses an eligible replica with the strategy and leases it; nil when no replica is eligible or the
    /// strategy refuses.
    ///
    /// - Complexity: the strategy's cost plus O(1); allocation-free in steady state for the library's
    ///   strategies.
    public func route(_ request: RoutingRequest, at now: ContinuousClock.Instant) -> RoutingDecision? {
        ledger.fleet.withLock { fleet -> RoutingDecision? in
            fleet.now = now
            guard fleet.eligibleCount > 0,
                let choice = strategy.choose(for: request, in: fleet),
                fleet.isEligible(choice.replica)
            else { return nil }
            let (entry, generation) = fleet.acquire(choice.replica)
            return RoutingDecision(
                replica: fleet.id(of: choice.replica), reason: choice.reason,
                lease: Lease(owner: ledger, entry: entry, generation: generation))
        }
    }

    // MARK: Membership

    /// Adds a replica (status up). Keys move only onto it.
    ///
    /// - Throws: ``PrefixRouterError`` if the id is empty or already a member, or the weight is invalid.
    public func add(_ replica: Replica) throws(PrefixRouterError) {
        try change { (fleet: inout Fleet) throws(PrefixRouterError) in try fleet.add(replica) }
    }

    /// Removes a replica. Its keys move to their next replicas clockwise; no other key moves. Its live
    /// leases stay valid to release and no longer count anywhere.
    ///
    /// - Throws: ``PrefixRouterError`` with code ``PrefixRouterError/Code/unknownReplica``.
    public func remove(_ id: ReplicaID) throws(PrefixRouterError) {
        try change { (fleet: inout Fleet) throws(PrefixRouterError) in try fleet.remove(id) }
    }

    /// Changes a replica's weight (its ring points and its share of the capacity).
    public func setWeight(_ weight: Int, of id: ReplicaID) throws(PrefixRouterError) {
        try change { (fleet: inout Fleet) throws(PrefixRouterError) in try fleet.setWeight(weight, of: id) }
    }

    /// Sets a replica's status. See ``markDown(_:)``, ``markUp(_:)`` and ``drain(_:)``.
    public func setStatus(_ status: ReplicaStatus, of id: ReplicaID) throws(PrefixRouterError) {
        try change { (fleet: inout Fleet) throws(PrefixRouterError) in try fleet.setStatus(status, of: id) }
    }

    /// Marks a replica unhealthy: no new requests; its ring points stay so its keys return when it recovers.
    public func markDown(_ id: ReplicaID) throws(PrefixRouterError) { try setStatus(.down, of: id) }

    /// Marks a replica healthy again.
    public func markUp(_ id: ReplicaID) throws(PrefixRouterError) { try setStatus(.up, of: id) }

    /// Starts draining a replica: no new requests while its leases finish. Poll ``outstanding(of:)`` until it
    /// reaches 0, then ``remove(_:)`` it.
    public func drain(_ id: ReplicaID) throws(PrefixRouterError) { try setStatus(.draining, of: id) }

    private func change(_ body: (inout Fleet) throws(PrefixRouterError) -> Void) throws(PrefixRouterError) {
        try ledger.fleet.withLock { (fleet: inout Fleet) throws(PrefixRouterError) in
            try body(&fleet)
            strategy.fleetDidChange(fleet)
        }
    }

    // MARK: Inspection

    /// Every member with its status and outstanding count, in the order they joined. O(n); allocates.
    public var replicas: [ReplicaSnapshot] { ledger.fleet.withLock { $0.snapshots } }

    /// A replica's outstanding count, or nil if it is not a member. O(1).
    public func outstanding(of id: ReplicaID) -> Int? {
        ledger.fleet.withLock { fleet in fleet.index(of: id).map { fleet.outstanding(of: $0) } }
    }

    /// The current ring (a value: it does not change under you).
    public var ring: HashRing { ledger.fleet.withLock { $0.ring } }

    /// Leases taken and not yet released, including those whose replica has left. O(1).
    public var liveLeaseCount: Int { ledger.fleet.withLock { $0.liveLeaseCount } }

    /// Runs `body` with the fleet and the strategy under the lock, for inspection (tests, simulators,
    /// diagnostics endpoints). Keep it short: routing waits meanwhile.
    public func withFleet<Result: Sendable, Failure: Error>(
        _ body: (Fleet, inout Strategy) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try ledger.fleet.withLock { (fleet: inout Fleet) throws(Failure) -> Result in
            try body(fleet, &strategy)
        }
    }
}
