/// Places requests on replicas. The interface a gateway depends on.
///
/// `route` is synchronous and cheap (no allocation in steady state for the library's strategies): call it
/// on the request path, from any number of tasks at once. The returned ``RoutingDecision`` carries a
/// ``Lease`` that must be released when the request stops occupying the replica; prefer
/// ``withLease(for:at:isolation:_:)``, which does so on every path.
///
/// ``FleetRouter`` is the implementation: a fleet of replicas plus a ``RoutingStrategy``. Wrap it to add
/// behaviour around every decision (logging, metrics, shadow routing).
public protocol Router: Sendable {
    /// Chooses an eligible replica for `request` and leases it, or returns nil when no replica is eligible.
    ///
    /// - Parameter now: the time of the call, used by time-aware strategies (session TTLs). Simulators pass
    ///   simulated time here.
    func route(_ request: RoutingRequest, at now: ContinuousClock.Instant) -> RoutingDecision?
}

extension Router {
    /// Chooses an eligible replica for `request` at the current time and leases it, or returns nil when no
    /// replica is eligible.
    @inlinable
    public func route(_ request: RoutingRequest) -> RoutingDecision? {
        route(request, at: .now)
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
    /// - Returns: `body`'s result, or nil (without calling `body`) when no replica is eligible.
    public func withLease<Result, Failure: Error>(
        for request: RoutingRequest,
        at now: ContinuousClock.Instant = .now,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (RoutingDecision) async throws(Failure) -> Result
    ) async throws(Failure) -> Result? {
        guard let decision = route(request, at: now) else { return nil }
        defer { decision.lease.release() }
        return try await body(decision)
    }
}
