public import PrefixRouter

/// Replica sets of a given size, named the way a Kubernetes gateway would name them.
public enum Fleets {
    /// Leases kept held in the background by the warm routers, per replica, so the fleet is loaded as in
    /// production rather than idle.
    public static let backgroundLeasesPerReplica = 2

    /// `count` replicas of weight 1: `replica-0000`, `replica-0001`, …
    public static func replicas(_ count: Int) -> [Replica] {
        (0..<count).map { index in
            let digits = String(index)
            return Replica(id: ReplicaID("replica-" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits))
        }
    }

    /// A router over `replicaCount` replicas with `strategy`, warmed up so that its lease table has grown to
    /// the size a steady state needs: `backgroundLeases` leases stay held (the fleet is never idle), and one
    /// route + release per request in `requests` has run, so that later route + release pairs reuse entries.
    ///
    /// - Returns: the router and the held leases (release them to drain the fleet).
    public static func warmRouter<Strategy: RoutingStrategy>(
        replicaCount: Int,
        strategy: Strategy,
        requests: [RoutingRequest],
        backgroundLeases: Int
    ) throws(PrefixRouterError) -> (router: FleetRouter<Strategy>, held: [Lease]) {
        let router = try FleetRouter(replicas: replicas(replicaCount), strategy: strategy)
        var held: [Lease] = []
        held.reserveCapacity(backgroundLeases)
        for position in 0..<backgroundLeases {
            if let decision = router.route(requests[position % requests.count]) { held.append(decision.lease) }
        }
        for request in requests {
            router.route(request)?.lease.release()
        }
        return (router, held)
    }

    /// A warm ``PrefixAffinity`` router (``LeastOutstanding`` fallback, seeded) over `replicaCount` replicas
    /// with ``backgroundLeasesPerReplica`` leases per replica held; see ``warmRouter(replicaCount:strategy:requests:backgroundLeases:)``.
    public static func warmAffinityRouter(
        replicaCount: Int,
        requests: [RoutingRequest]
    ) throws(PrefixRouterError) -> (router: FleetRouter<PrefixAffinity<LeastOutstanding>>, held: [Lease]) {
        try warmRouter(
            replicaCount: replicaCount,
            strategy: PrefixAffinity(fallback: LeastOutstanding(seed: 1)),
            requests: requests,
            backgroundLeases: replicaCount * backgroundLeasesPerReplica
        )
    }
}
