/// A strategy's answer inside the router's critical section: which eligible replica, and why.
public struct RoutingChoice: Sendable {
    /// The chosen replica; must be eligible (see ``Fleet/isEligible(_:)``).
    public var replica: Fleet.Index
    /// Why it was chosen.
    public var reason: RoutingReason

    /// Creates a choice.
    @inlinable
    public init(_ replica: Fleet.Index, reason: RoutingReason) {
        self.replica = replica
        self.reason = reason
    }
}

/// A router's answer: where to send the request, why, and the lease to release when it is done.
public struct RoutingDecision: Sendable {
    /// The replica to send the request to.
    public let replica: ReplicaID
    /// Why it was chosen.
    public let reason: RoutingReason
    /// The claim on the replica's outstanding count; release it when the request finishes, fails or is
    /// cancelled (idempotent).
    public let lease: Lease

    /// Creates a decision. Routers build these; tests and custom routers may too.
    public init(replica: ReplicaID, reason: RoutingReason, lease: Lease) {
        self.replica = replica
        self.reason = reason
        self.lease = lease
    }
}
