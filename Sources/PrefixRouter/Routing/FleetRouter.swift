/// A ``Router`` over a mutable set of replicas, placing requests with a ``RoutingStrategy``.
///
/// The router owns the fleet (members, weights, statuses, outstanding counts, the ring, the live leases)
/// and the strategy's state, both behind one lock (a pthread mutex; see `LockedState` for why not
/// `Synchronization.Mutex`). A route call takes the lock once: the strategy
/// chooses, the router checks the choice is eligible and increments its count, and returns a decision whose
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
public final class FleetRouter<Strategy: RoutingStrategy>: Router, LeaseOwner {
    struct State: Sendable {
        var fleet: Fleet
        var strategy: Strategy
    }

    let state: LockedState<State>

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
        self.state = LockedState(State(fleet: fleet, strategy: strategy))
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
        state.withLock { state -> RoutingDecision? in
            state.fleet.now = now
            guard state.fleet.eligibleCount > 0,
                let choice = state.strategy.choose(for: request, in: state.fleet),
                state.fleet.isEligible(choice.replica)
            else { return nil }
            let (entry, generation) = state.fleet.acquire(choice.replica)
            return RoutingDecision(
                replica: state.fleet.id(of: choice.replica), reason: choice.reason,
                lease: Lease(owner: self, entry: entry, generation: generation))
        }
    }

    func releaseLease(entry: UInt32, generation: UInt32) -> Bool {
        state.withLock { $0.fleet.release(entry: entry, generation: generation) }
    }

    func isLeaseHeld(entry: UInt32, generation: UInt32) -> Bool {
        state.withLock { $0.fleet.isHeld(entry: entry, generation: generation) }
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
        try state.withLock { (state: inout State) throws(PrefixRouterError) in
            try body(&state.fleet)
            state.strategy.fleetDidChange(state.fleet)
        }
    }

    // MARK: Inspection

    /// Every member with its status and outstanding count, in the order they joined. O(n); allocates.
    public var replicas: [ReplicaSnapshot] { state.withLock { $0.fleet.snapshots } }

    /// A replica's outstanding count, or nil if it is not a member. O(1).
    public func outstanding(of id: ReplicaID) -> Int? {
        state.withLock { state in state.fleet.index(of: id).map { state.fleet.outstanding(of: $0) } }
    }

    /// The current ring (a value: it does not change under you).
    public var ring: HashRing { state.withLock { $0.fleet.ring } }

    /// Leases taken and not yet released, including those whose replica has left. O(1).
    public var liveLeaseCount: Int { state.withLock { $0.fleet.liveLeaseCount } }

    /// Runs `body` with the fleet and the strategy under the lock, for inspection (tests, simulators,
    /// diagnostics endpoints). Keep it short: routing waits meanwhile.
    public func withFleet<Result: Sendable, Failure: Error>(
        _ body: (Fleet, inout Strategy) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try state.withLock { (state: inout State) throws(Failure) -> Result in
            try body(state.fleet, &state.strategy)
        }
    }
}
