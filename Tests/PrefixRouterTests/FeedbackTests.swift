@_spi(Internals) @_spi(Simulation) import PrefixRouter
import Testing

/// Feedback from outside the request path reaches the strategy under the router's lock.
@Suite("Routing feedback")
struct FeedbackTests {
    // Catches: placement feedback dropped (CacheAware would place the prompt on load alone).
    @Test("Another gateway's placement makes CacheAware send the same prefix there")
    func placementFeedback() throws {
        let router = try FleetRouter(replicaIDs: replicaIDs(4), strategy: CacheAware(fallback: RoundRobin(), seed: 3))
        let blocks = (1...16).map { BlockHash(UInt64($0) * 7_919) }
        router.observe(.placement(blockHashes: blocks, replica: "r2"))
        let decision = try #require(router.route(RoutingRequest(blockHashes: blocks, blockSize: 16)))
        #expect(decision.replica == "r2")
        #expect(decision.reason == CacheAware<RoundRobin>.cacheMatchReason)
        #expect(decision.lease.cost.uncachedTokens == 0)  // the whole prompt is expected cached
        decision.lease.release()
        router.observe(.placement(blockHashes: blocks, replica: "gone"))  // not a member: ignored, no crash
        #expect(router.withStrategy { _, strategy in strategy.index.count(for: "gone") } == 0)
    }

    // Catches: cached-token feedback that records more blocks than the engine reported.
    @Test("Cached-token feedback records only the blocks the engine reported as cached")
    func cachedTokensFeedback() throws {
        let router = try FleetRouter(replicaIDs: replicaIDs(3), strategy: CacheAware(fallback: RoundRobin(), seed: 3))
        let blocks = (1...10).map { BlockHash(UInt64($0) &* 0x9E37_79B9) }
        router.observe(.cachedTokens(64, blockHashes: blocks, blockSize: 16, replica: "r1"))
        #expect(router.withStrategy { _, strategy in strategy.index.count(for: "r1") } == 4)
        router.observe(.engineMetrics(EngineMetrics(waitingRequests: -3, kvCacheUsage: .nan), replica: "r1"))
        #expect(EngineMetrics(waitingRequests: -3, kvCacheUsage: 7).waitingRequests == 0)
        #expect(EngineMetrics(kvCacheUsage: 7).kvCacheUsage == 1)
        #expect(EngineMetrics(kvCacheUsage: .nan).kvCacheUsage == nil)
    }

    // Catches: a composed strategy that swallows feedback meant for its fallback.
    @Test("Composed strategies pass feedback on to their fallback")
    func forwarding() throws {
        let router = try FleetRouter(
            replicaIDs: replicaIDs(3),
            strategy: PrefixAffinity(fallback: CacheAware(fallback: RoundRobin(), seed: 1))
        )
        router.observe(.placement(blockHashes: [BlockHash(5)], replica: "r0"))
        #expect(router.withStrategy { _, strategy in strategy.fallback.index.count(for: "r0") } == 1)
    }
}
