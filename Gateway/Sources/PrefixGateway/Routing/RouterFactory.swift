import PrefixRouter

/// Builds the fleet router the configuration names: one `FleetRouter` over every replica, its strategy
/// wrapped in ``CappedStrategy``, held as `any PrefixRouter.Router & FleetControl`.
enum RouterFactory {
    /// Whether `strategy` learns from the cached tokens engines report (`RoutingFeedback.cachedTokens`):
    /// only then does a request keep its block hashes until its response ends.
    static func learnsFromCachedTokens(_ strategy: RoutingStrategyName) -> Bool { strategy == .cacheAware }

    /// Whether `strategy` keeps a prefix index that `RoutingFeedback.placement` refreshes (`EstimatedTTFT`,
    /// `CacheAware`): only then is a request's placement reported again at its end
    /// (`routing.placementAtReleaseSeconds`), and only then does a request keep its block hashes for it.
    static func learnsFromPlacements(_ strategy: RoutingStrategyName) -> Bool {
        switch strategy {
        case .estimatedTTFT, .estimatedTTFTSingle, .cacheAware: true
        case .prefixAffinity, .sticky, .leastOutstanding, .powerOfTwo, .roundRobin, .random: false
        }
    }

    /// The router for `configuration` over `replicas`.
    ///
    /// - Throws: ``GatewayConfigurationError`` naming the routing field the library rejected.
    static func makeRouter(
        _ configuration: GatewayConfiguration,
        replicas: [ReplicaEndpoint]
    ) throws(GatewayConfigurationError) -> any PrefixRouter.Router & FleetControl {
        let routing = configuration.routing
        let members = replicas.map { Replica(id: $0.id, weight: $0.weight) }
        let fleet = configuration.fleetConfiguration
        let cap = configuration.admission.perReplicaCap
        let slowStart = Duration.milliseconds(Int64(configuration.health.slowStartSeconds * 1_000))
        func capped<Base: RoutingStrategy>(_ base: Base) throws(PrefixRouterError) -> FleetRouter<CappedStrategy<Base>>
        {
            try FleetRouter(
                replicas: members,
                strategy: CappedStrategy(base: base, cap: cap, slowStart: slowStart),
                configuration: fleet
            )
        }
        do {
            switch routing.strategy {
            case .estimatedTTFT:
                return try capped(
                    EstimatedTTFT.recommendedMultiGateway(
                        capacityPerReplica: routing.cacheBlocksPerReplica,
                        keyDepthTokens: routing.keyDepthTokens,
                        fallback: LeastOutstanding()
                    )
                )
            case .estimatedTTFTSingle:
                return try capped(
                    EstimatedTTFT.recommendedSingleGateway(
                        capacityPerReplica: routing.cacheBlocksPerReplica,
                        fallback: LeastOutstanding()
                    )
                )
            case .prefixAffinity:
                return try capped(
                    PrefixAffinity(keyDepthTokens: routing.keyDepthTokens, fallback: LeastOutstanding())
                )
            case .cacheAware:
                return try capped(
                    CacheAware(capacityPerReplica: routing.cacheBlocksPerReplica, fallback: LeastOutstanding())
                )
            case .sticky:
                return try capped(
                    Sticky(
                        fallback: PrefixAffinity(keyDepthTokens: routing.keyDepthTokens, fallback: LeastOutstanding())
                    )
                )
            case .leastOutstanding:
                return try capped(LeastOutstanding())
            case .powerOfTwo:
                return try capped(PowerOfTwoChoices())
            case .roundRobin:
                return try capped(RoundRobin())
            case .random:
                return try capped(RandomChoice())
            }
        } catch {
            throw GatewayConfigurationError(field: "routing", error.message)
        }
    }
}
