/// A strategy's answer inside the router's critical section: which eligible replica, why, and what it expects
/// the replica to hold of the request's prompt.
public struct RoutingChoice: Sendable {
    /// The chosen replica; must be eligible (see ``Fleet/isEligible(_:)``).
    public var replica: Fleet.Index
    /// Why it was chosen.
    public var reason: RoutingReason
    /// The strategy's estimate of the prompt tokens the replica already caches, or nil when it has none. The
    /// router subtracts it from the prompt to get the lease's ``LeaseCost/uncachedTokens``.
    public var cachedTokens: Int?

    /// Creates a choice.
    @inlinable
    public init(_ replica: Fleet.Index, reason: RoutingReason, cachedTokens: Int? = nil) {
        self.replica = replica
        self.reason = reason
        self.cachedTokens = cachedTokens
    }
}

/// A router's answer: where to send the request, why, and the lease to release when it is done.
public struct RoutingDecision: Sendable {
    /// The replica to send the request to.
    public let replica: ReplicaID
    /// Why it was chosen.
    public let reason: RoutingReason
    /// The claim on the replica's outstanding count; release it when the request finishes, fails or is
    /// cancelled (idempotent). Wrap it in a ``LeaseHandle`` when the request outlives the current scope.
    public let lease: Lease

    /// Creates a decision. Routers build these; tests and custom routers may too (with
    /// ``Lease/init(cost:onFirstToken:onRelease:)``).
    public init(replica: ReplicaID, reason: RoutingReason, lease: Lease) {
        self.replica = replica
        self.reason = reason
        self.lease = lease
    }
}
