/// The control plane of a router's fleet, independent of its strategy: membership, weights, health, drain,
/// a read-only snapshot, and feedback for the strategy.
///
/// ``FleetRouter`` conforms whatever its strategy, so a gateway can pick the strategy from its configuration
/// at startup and still manage the fleet through one non-generic type: `any Router & FleetControl`.
///
/// Health (``markDown(_:)``, ``markUp(_:)``) and administration (``drain(_:)``, ``undrain(_:)``) are
/// independent: a replica takes new requests when it is up *and* active, so a health loop that marks a
/// replica up never un-drains it mid-rollout.
///
/// Changes are for control-plane rates (health checks, configuration reloads), not per request: those that
/// move ring points build the new ring outside the routing lock, then swap it in.
public protocol FleetControl: Sendable {
    /// Adds a replica (up and active). Keys move only onto it.
    ///
    /// - Throws: ``PrefixRouterError`` if the id is empty or already a member, or the weight is invalid.
    func add(_ replica: Replica) throws(PrefixRouterError)

    /// Removes a replica. Its keys move to their next replicas clockwise; no other key moves. Its live leases
    /// stay valid to release and no longer count anywhere.
    ///
    /// - Throws: ``PrefixRouterError`` with code ``PrefixRouterError/Code/unknownReplica``.
    func remove(_ id: ReplicaID) throws(PrefixRouterError)

    /// Changes a replica's weight (its ring points and its share of the capacity).
    ///
    /// - Throws: ``PrefixRouterError`` for an unknown replica or an invalid weight.
    func setWeight(_ weight: Int, of id: ReplicaID) throws(PrefixRouterError)

    /// Marks a replica unhealthy: no new requests; its ring points stay, so its keys return when it recovers.
    func markDown(_ id: ReplicaID) throws(PrefixRouterError)

    /// Marks a replica healthy. A draining replica stays draining.
    func markUp(_ id: ReplicaID) throws(PrefixRouterError)

    /// Starts draining a replica: no new requests while its leases finish, whatever its health. Poll
    /// ``snapshot()`` until its outstanding count reaches 0, then ``remove(_:)`` it.
    func drain(_ id: ReplicaID) throws(PrefixRouterError)

    /// Ends a drain: the replica takes new requests again when healthy.
    func undrain(_ id: ReplicaID) throws(PrefixRouterError)

    /// A consistent, read-only view of the fleet: members, loads, capacities, in-flight, version and the
    /// decision counters. O(n); allocates.
    func snapshot() -> FleetSnapshot

    /// Gives the strategy something it learned from outside the request path (engine metrics, the cached
    /// tokens an engine reported, another gateway's placement), under the routing lock.
    func observe(_ feedback: RoutingFeedback)
}
