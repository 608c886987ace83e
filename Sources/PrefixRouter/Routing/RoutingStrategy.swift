/// A placement policy: given a request and the fleet, choose an eligible replica.
///
/// Strategies are values. A ``FleetRouter`` stores its strategy beside the fleet under one lock and calls
/// ``choose(for:in:)`` with both, so a strategy may keep state (a counter, a random generator, a session
/// table, a prefix index) in its own stored properties without locking, and everything it reads from the
/// ``Fleet`` is consistent with the lease taken right after.
///
/// Composition is by generics: ``PrefixAffinity`` and ``Sticky`` take a fallback strategy as a type
/// parameter (`PrefixAffinity<LeastOutstanding>`), so the composition costs no dynamic dispatch.
///
/// A custom strategy is a few lines:
/// ```swift
/// struct Lightest: RoutingStrategy {
///     mutating func choose(for request: RoutingRequest, in fleet: Fleet) -> RoutingChoice? {
///         var best: Fleet.Index?
///         for position in 0..<fleet.eligibleCount {
///             let candidate = fleet.eligible(at: position)
///             if best.map({ fleet.isLessLoaded(candidate, than: $0) }) ?? true { best = candidate }
///         }
///         return best.map { RoutingChoice($0, reason: .leastOutstanding) }
///     }
/// }
/// ```
///
/// `choose` runs inside the router's critical section: keep it short and never block or await in it. It
/// sees a ``Fleet`` value, never the router, so it cannot re-enter the lock.
public protocol RoutingStrategy: Sendable {
    /// Chooses a replica among the fleet's eligible ones, or returns nil to refuse the request.
    ///
    /// A choice of a replica that is not eligible is treated as nil: health, drain and retry filtering cannot
    /// be bypassed.
    mutating func choose(for request: RoutingRequest, in fleet: Fleet) -> RoutingChoice?

    /// Called after every membership, weight, health or administrative change, under the router's lock. The
    /// default does nothing; strategies that index replicas by ``Fleet/Index`` drop stale entries here.
    mutating func fleetDidChange(_ fleet: Fleet)

    /// Receives feedback from outside the request path (see ``RoutingFeedback``), under the router's lock.
    /// The default ignores it; composed strategies pass it on to their fallback.
    mutating func observe(_ feedback: RoutingFeedback, in fleet: Fleet)
}

extension RoutingStrategy {
    /// Does nothing.
    @inlinable
    public mutating func fleetDidChange(_ fleet: Fleet) {}

    /// Ignores the feedback.
    @inlinable
    public mutating func observe(_ feedback: RoutingFeedback, in fleet: Fleet) {}
}
