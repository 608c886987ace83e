@_spi(Internals) @_spi(Simulation) import PrefixRouter
import Testing

private func hashes(_ values: [UInt64]) -> [BlockHash] { values.map(BlockHash.init(rawValue:)) }

@Suite("Index corrections from cached tokens")
struct IndexShortfallCorrectionTests {
    /// Recency [4 5 1 2 3]; removing 2 leaves [4 5 1]; 2 and 3 no longer match; three new hashes fill the
    /// freed nodes and then evict 1 (capacity 5). Catches: removing the newest, leaving removed hashes in the
    /// hash table, and freed nodes not reused (the count would pass the capacity or 1 would survive).
    @Test func removeLeastRecentForgetsTheOldestAndReusesTheirNodes() throws {
        var index = try PrefixIndex(capacityPerReplica: 5)
        index.insert(hashes([1, 2, 3]), for: "a")
        index.insert(hashes([4, 5]), for: "a")
        index.removeLeastRecent(2, for: "a")
        #expect(index.hashesFromMostRecent(for: "a") == hashes([4, 5, 1]))
        #expect(index.longestMatch(of: hashes([1, 2, 3]), for: "a") == 1)
        index.insert(hashes([6, 7, 8]), for: "a")
        #expect(index.hashesFromMostRecent(for: "a") == hashes([6, 7, 8, 4, 5]))
        #expect(index.count(for: "a") == 5)
        index.removeLeastRecent(9, for: "a")
        index.removeLeastRecent(1, for: "unknown")
        #expect(index.count(for: "a") == 0)
        index.insert(hashes([9]), for: "a")
        #expect(index.hashesFromMostRecent(for: "a") == hashes([9]))
    }

    /// r0's index holds an older 5-block prompt and the 10-block request (15 entries); the request goes to r0
    /// (predicted 10 blocks) and the engine reports 3: the shortfall, 7 blocks, of r0's least recent entries
    /// goes (the old prompt and the request's last two blocks). A second report for the same request trims
    /// nothing (its prediction was consumed), nor does a report at or above the prediction. Catches: no
    /// correction, trimming the newest entries (the request's head would go), trimming twice.
    @Test(arguments: [true, false])
    func aShortfallTrimsTheLeastRecentEntries(corrects: Bool) throws {
        let prompt = (0..<10).map { BlockHash(0xA000 + UInt64($0)) }
        let old = (0..<5).map { BlockHash(0xB000 + UInt64($0)) }
        let strategy = try EstimatedTTFT(
            prefillTokensPerSecond: 1_000,
            loadFactor: nil,
            correctsIndexFromCachedTokens: corrects,
            fallback: LeastOutstanding(seed: 1),
            seed: 1
        )
        #expect(strategy.correctsIndexFromCachedTokens == corrects)
        let router = try FleetRouter(replicaIDs: replicaIDs(2), strategy: strategy)
        router.observe(.placement(blockHashes: old, replica: "r0"))
        router.observe(.placement(blockHashes: prompt, replica: "r0"))
        let routed = try #require(router.route(RoutingRequest(blockHashes: prompt, blockSize: 100)))
        #expect(routed.replica == "r0")
        routed.lease.release()
        func held() -> [BlockHash] { router.withStrategy { _, s in s.index.hashesFromMostRecent(for: "r0") } }
        router.observe(.cachedTokens(300, blockHashes: prompt, blockSize: 100, replica: "r0"))
        #expect(held() == (corrects ? Array(prompt.prefix(8)) : prompt + old))
        router.observe(.cachedTokens(300, blockHashes: prompt, blockSize: 100, replica: "r0"))
        #expect(held().count == (corrects ? 8 : 15))
    }

    /// A report at or above the prediction trims nothing. Catches: trimming on every report.
    @Test func aFullReportTrimsNothing() throws {
        let prompt = (0..<4).map { BlockHash(0xC000 + UInt64($0)) }
        let strategy = try EstimatedTTFT(
            loadFactor: nil,
            correctsIndexFromCachedTokens: true,
            fallback: LeastOutstanding(seed: 1),
            seed: 1
        )
        let router = try FleetRouter(replicaIDs: replicaIDs(2), strategy: strategy)
        router.observe(.placement(blockHashes: prompt, replica: "r1"))
        let routed = try #require(router.route(RoutingRequest(blockHashes: prompt, blockSize: 16)))
        #expect(routed.replica == "r1")
        routed.lease.release()
        router.observe(.cachedTokens(64, blockHashes: prompt, blockSize: 16, replica: "r1"))
        #expect(router.withStrategy { _, s in s.index.count(for: "r1") } == 4)
    }
}
