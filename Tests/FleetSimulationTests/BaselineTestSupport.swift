@_spi(Internals) @_spi(Simulation) import PrefixRouter

/// Wraps a strategy so that tests can place filler requests on a chosen replica without the wrapped
/// strategy seeing them (its index and counters stay as the test set them up).
struct Scripted<Inner: RoutingStrategy>: RoutingStrategy {
    var inner: Inner
    /// When set, every request goes to this replica and `inner` is not consulted.
    var pin: ReplicaID?

    mutating func choose(for request: RoutingRequest, in fleet: Fleet) -> RoutingChoice? {
        if let pin, let index = fleet.index(of: pin) { return RoutingChoice(index, reason: RoutingReason("pinned")) }
        return inner.choose(for: request, in: fleet)
    }

    mutating func fleetDidChange(_ fleet: Fleet) { inner.fleetDidChange(fleet) }

    mutating func observe(_ feedback: RoutingFeedback, in fleet: Fleet) { inner.observe(feedback, in: fleet) }
}

/// A fleet of replicas driven by a strategy, with helpers to hold loads by leases.
final class LoadRig<Inner: RoutingStrategy> {
    let router: FleetRouter<Scripted<Inner>>
    private(set) var held: [Lease] = []

    init(_ ids: [ReplicaID], _ inner: Inner, configuration: FleetConfiguration = FleetConfiguration()) throws {
        router = try FleetRouter(replicaIDs: ids, strategy: Scripted(inner: inner), configuration: configuration)
    }

    /// Routes `count` filler requests (no prefix) to `replica` and holds their leases.
    func hold(_ count: Int, on replica: ReplicaID) {
        router.withStrategy { _, strategy in strategy.pin = replica }
        for _ in 0..<count {
            if let decision = router.route(RoutingRequest()) { held.append(decision.lease) }
        }
        router.withStrategy { _, strategy in strategy.pin = nil }
    }

    /// Routes `request` through the strategy; holds the lease when `keep`, else releases it at once.
    @discardableResult
    func route(_ request: RoutingRequest, keep: Bool = false) -> RoutingDecision? {
        let decision = router.route(request)
        if let decision {
            if keep { held.append(decision.lease) } else { decision.lease.release() }
        }
        return decision
    }

    func releaseAll() {
        for lease in held { lease.release() }
        held.removeAll()
    }

    func load(of replica: ReplicaID) -> Int { router.outstanding(of: replica) ?? -1 }

    /// Reads or changes the wrapped strategy under the router's lock.
    func withStrategy<Result: Sendable>(_ body: (Fleet, inout Inner) -> Result) -> Result {
        router.withStrategy { fleet, strategy in body(fleet, &strategy.inner) }
    }
}

/// A prompt of `blocks` distinct block hashes derived from `seed` (chained-looking, never colliding across
/// seeds below 2^20).
func prompt(_ seed: UInt64, blocks: Int, sharing shared: [BlockHash] = []) -> [BlockHash] {
    shared + (shared.count..<blocks).map { BlockHash(rawValue: seed << 20 | UInt64($0)) }
}
