/// Places requests on replicas. The interface a gateway depends on.
///
/// `route` is synchronous and cheap (no allocation in steady state for the library's strategies): call it
/// on the request path, from any number of tasks at once. The returned ``RoutingDecision`` carries a
/// ``Lease`` that must be released when the request stops occupying the replica:
/// ``withLease(for:excluding:at:isolation:_:)`` does so on every path of a scoped body, and a ``LeaseHandle``
/// does so for work that outlives its scope (a streamed response).
///
/// ``FleetRouter`` is the implementation: a fleet of replicas plus a ``RoutingStrategy``. Wrap it to add
/// behaviour around every decision (logging, metrics, shadow routing), or write a test double that returns
/// decisions built with ``RoutingDecision/init(replica:reason:lease:)`` and ``Lease/init(cost:onFirstToken:onRelease:)``.
/// A service that chooses its strategy from configuration at startup holds `any Router & FleetControl`.
public protocol Router: Sendable {
    /// Chooses an eligible replica for `request`, other than those in `excluded`, and leases it, or returns nil
    /// when no replica is eligible (or the strategy refuses).
    ///
    /// Excluded replicas are filtered exactly like ineligible ones: the strategy does not see them, and they do
    /// not count in the in-flight total or the weight that the bounded-load capacity is computed from. Use it to
    /// retry a request whose replica just failed before sending a byte (connection refused), after releasing
    /// the failed attempt's lease.
    ///
    /// - Parameters:
    ///   - request: the request to place.
    ///   - excluded: replicas to skip for this call only; an empty array costs nothing.
    ///   - now: the time of the call, used by time-aware strategies (session TTLs). Simulators pass simulated
    ///     time here.
    func route(
        _ request: RoutingRequest,
        excluding excluded: [ReplicaID],
        at now: ContinuousClock.Instant
    )
        -> RoutingDecision?
}

extension Router {
    /// Chooses an eligible replica for `request` at the current time and leases it, or returns nil when no
    /// replica is eligible.
    @inlinable
    public func route(_ request: RoutingRequest) -> RoutingDecision? {
        route(request, excluding: [], at: .now)
    }

    /// Chooses an eligible replica for `request` at `now` and leases it, or returns nil when no replica is
    /// eligible.
    @inlinable
    public func route(_ request: RoutingRequest, at now: ContinuousClock.Instant) -> RoutingDecision? {
        route(request, excluding: [], at: now)
    }

    /// Chooses an eligible replica for `request` other than those in `excluded`, at the current time (see
    /// ``route(_:excluding:at:)``).
    @inlinable
    public func route(_ request: RoutingRequest, excluding excluded: [ReplicaID]) -> RoutingDecision? {
        route(request, excluding: excluded, at: .now)
    }

    /// Routes `request`, runs `body` with the decision, and releases the lease however `body` ends: by
    /// returning, by throwing, or by being cancelled.
    ///
    /// ```swift
    /// let reply = try await router.withLease(for: request) { decision in
    ///     try await upstream.send(body, to: decision.replica)
    /// }
    /// guard let reply else { return .serviceUnavailable }  // no eligible replica
    /// ```
    ///
    /// Only for work that ends inside `body`. A response whose body is streamed after the handler returns
    /// must own its lease with a ``LeaseHandle`` instead.
    ///
    /// - Returns: `body`'s result, or nil (without calling `body`) when no replica is eligible.
    public func withLease<Result, Failure: Error>(
        for request: RoutingRequest,
        excluding excluded: [ReplicaID] = [],
        at now: ContinuousClock.Instant = .now,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (RoutingDecision) async throws(Failure) -> Result
    ) async throws(Failure) -> Result? {
        guard let decision = route(request, excluding: excluded, at: now) else { return nil }
        defer { decision.lease.release() }
        return try await body(decision)
    }
}
