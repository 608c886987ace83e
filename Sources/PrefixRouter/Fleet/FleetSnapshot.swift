/// A point-in-time, read-only view of a fleet and its router, for control planes, diagnostics endpoints and
/// metrics exporters. A value: it does not change under you, and holding it holds no lock.
public struct FleetSnapshot: Sendable {
    /// Incremented on every membership, weight, health or administrative change.
    public var version: UInt64
    /// Every member, in the order they joined (a replica that left and rejoined counts from its rejoining).
    public var replicas: [ReplicaSnapshot]
    /// Outstanding requests summed over the eligible replicas: the *m* of the bounded-load capacity.
    public var inFlight: Int
    /// The eligible replicas' total weight: the *W* of the bounded-load capacity.
    public var eligibleWeight: Int
    /// Leases taken and not yet released, including those whose replica has left.
    public var liveLeases: Int
    /// The fleet's bounded-load factor.
    public var loadFactor: LoadFactor
    /// The capacity floor (see ``FleetConfiguration/minimumCapacity``).
    public var minimumCapacity: Int
    /// Decisions made since the router was created, by reason (low cardinality: a metric's label values).
    public var decisions: [RoutingReason: Int]
    /// Route calls that returned nil since the router was created (no eligible replica, or the strategy
    /// refused).
    public var refusals: Int

    /// The member named `id`, or nil. O(n).
    public func replica(_ id: ReplicaID) -> ReplicaSnapshot? { replicas.first { $0.id == id } }
}

/// A point-in-time view of one replica, as returned in a ``FleetSnapshot``.
public struct ReplicaSnapshot: Hashable, Sendable {
    /// The replica's id.
    public var id: ReplicaID
    /// Its configured weight.
    public var weight: Int
    /// Whether health checks see it up.
    public var health: ReplicaHealth
    /// Whether an operator drains it.
    public var administrativeState: AdministrativeState
    /// Whether it takes new requests: up and active.
    public var isEligible: Bool { health == .up && administrativeState == .active }
    /// Requests routed to it whose leases are not yet released.
    public var outstanding: Int
    /// Its bounded-load capacity at the time of the snapshot (0 when not eligible).
    public var capacity: Int
    /// Prompt tokens of its outstanding requests.
    public var outstandingTokens: Int
    /// Uncached prompt tokens of its outstanding requests that have not yet produced a first token.
    public var pendingPrefillTokens: Int
}
