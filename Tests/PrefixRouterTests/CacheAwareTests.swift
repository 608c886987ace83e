@_spi(Internals) @_spi(Simulation) import PrefixRouter
import Testing

@Suite("Cache-aware strategy")
struct CacheAwareTests {
    static func blocks(_ values: [UInt64]) -> [BlockHash] { values.map { BlockHash($0) } }

    @Test("Follows the longest recorded match at any depth; misses go to the fallback")
    func followsLongestMatch() throws {
        let router = try FleetRouter(
            replicaIDs: replicaIDs(4),
            strategy: try CacheAware(fallback: LeastOutstanding(seed: 1), seed: 1),
            configuration: FleetConfiguration(loadFactor: 2)
        )
        var held: [Lease] = []
        // Four conversations, placed by the fallback on four different (least loaded) replicas.
        var home: [ReplicaID] = []
        for conversation in 0..<4 {
            let first = try #require(
                router.route(RoutingRequest(blockHashes: Self.blocks([100 + UInt64(conversation)]), blockSize: 16))
            )
            #expect(first.reason == CacheAware<LeastOutstanding>.cacheMissReason)
            home.append(first.replica)
            held.append(first.lease)
        }
        #expect(Set(home).count == 4)
        for lease in held { lease.release() }
        // Second turns extend the first (chained hashes: distinct per conversation at every depth): each
        // returns to its conversation's replica.
        for conversation in 0..<4 {
            let turn = try #require(
                router.route(
                    RoutingRequest(
                        blockHashes: Self.blocks([
                            100 + UInt64(conversation), 200 + UInt64(conversation), 300 + UInt64(conversation),
                        ]),
                        blockSize: 16
                    )
                )
            )
            #expect(turn.replica == home[conversation])
            #expect(turn.reason == CacheAware<LeastOutstanding>.cacheMatchReason)
            turn.lease.release()
        }
        // No blocks: the fallback, labelled as such.
        #expect(router.route(RoutingRequest(blockHashes: [], tokenCount: 3))?.reason == .fallback)
    }

    @Test("A replica at its bounded-load capacity is skipped even if it holds the prefix")
    func respectsCapacity() throws {
        let router = try FleetRouter(
            replicaIDs: replicaIDs(2),
            strategy: try CacheAware(loadFactor: 1.25, fallback: LeastOutstanding(seed: 2), seed: 2),
            configuration: FleetConfiguration(loadFactor: 1.25)
        )
        let prefix = Self.blocks([1, 2, 3])
        let first = try #require(router.route(RoutingRequest(blockHashes: prefix, blockSize: 16)))
        // m = 1, n = 2: capacity ceil(1.25 * 2 / 2) = 2; first holds 1, so the second still fits.
        let second = try #require(router.route(RoutingRequest(blockHashes: prefix, blockSize: 16)))
        #expect(second.replica == first.replica)
        // m = 2: capacity ceil(1.25 * 3 / 2) = 2; the owner holds 2 and is full: the third goes elsewhere.
        let third = try #require(router.route(RoutingRequest(blockHashes: prefix, blockSize: 16)))
        #expect(third.replica != first.replica)
        for d in [first, second, third] { d.lease.release() }
    }

    @Test("Removed replicas are forgotten")
    func forgetsRemovedReplicas() throws {
        let router = try FleetRouter(
            replicaIDs: replicaIDs(2),
            strategy: try CacheAware(fallback: LeastOutstanding(seed: 3), seed: 3)
        )
        let decision = try #require(router.route(RoutingRequest(blockHashes: Self.blocks([9]), blockSize: 16)))
        decision.lease.release()
        #expect(router.withStrategy { _, strategy in strategy.index.count(for: decision.replica) } == 1)
        try router.remove(decision.replica)
        #expect(router.withStrategy { _, strategy in strategy.index.count(for: decision.replica) } == 0)
    }

    @Test("One hot prompt cannot pile onto one replica past the safety-net cap")
    func hotPromptIsCapped() throws {
        let hot = Self.blocks([5, 6, 7, 8])
        func holdAll(loadFactor: Double?) throws -> [Int] {
            let router = try FleetRouter(
                replicaIDs: replicaIDs(4),
                strategy: try CacheAware(loadFactor: loadFactor, fallback: LeastOutstanding(seed: 4), seed: 4)
            )
            let held = try (0..<100).map { _ in
                try #require(router.route(RoutingRequest(blockHashes: hot, blockSize: 16)))
            }
            defer { for decision in held { decision.lease.release() } }
            return router.replicas.map(\.outstanding)
        }
        // Without the cap, the full match (score 3) beats any idle replica (at most 2): everything piles up.
        #expect(try holdAll(loadFactor: nil).max() == 100)
        // With c = 2, no replica passes ceil(2 * 100 / 4) = 50.
        let capped = try holdAll(loadFactor: 2)
        #expect(capped.reduce(0, +) == 100)
        #expect(capped.max() ?? 0 <= 50)
    }

    @Test func rejectsInvalidParameters() {
        #expect(throws: PrefixRouterError.self) { try CacheAware(loadFactor: 1, fallback: RoundRobin()) }
        #expect(throws: PrefixRouterError.self) { try CacheAware(prefixWeight: -1, fallback: RoundRobin()) }
        #expect(throws: PrefixRouterError.self) { try CacheAware(loadWeight: .nan, fallback: RoundRobin()) }
        #expect(throws: PrefixRouterError.self) { try CacheAware(capacityPerReplica: 0, fallback: RoundRobin()) }
    }
}
