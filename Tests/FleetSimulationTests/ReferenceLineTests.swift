@_spi(Internals) import PrefixRouter
import Testing

@testable import _FleetSimulation

@Suite struct ReferenceLineTests {
    static func request(_ ids: [UInt64], tokens: Int? = nil, at time: Double = 0) -> TraceRequest {
        TraceRequest(
            arrival: time,
            inputTokens: tokens ?? ids.count * 10,
            outputTokens: 1,
            blockHashes: ids.map { BlockHash(rawValue: $0) },
            blockSize: 10
        )
    }

    /// Capacity 3: [a b], then [c d] evicts b (a prompt's tail goes first), so [a b] again hits a only.
    /// Catches: touching a request's blocks head first (then a would be evicted and the hit would be 0), and
    /// counting a non-leading block as a hit.
    @Test func pooledLRUEvictsTailsFirstAndCountsLeadingBlocksOnly() {
        let requests = [Self.request([1, 2]), Self.request([3, 4]), Self.request([1, 2])]
        let bound = ReferenceLines.pooledLRU(requests, capacityBlocks: 3)
        #expect(bound.hitTokens == 10)
        #expect(bound.promptTokens == 60)
        #expect(bound.capacityBlocks == 3)
    }

    /// Hit tokens are capped at the prompt (a partial last block). Catches: blocks × size without the cap.
    @Test func pooledLRUCapsHitsAtThePrompt() {
        let requests = [Self.request([1, 2], tokens: 15), Self.request([1, 2], tokens: 15)]
        #expect(ReferenceLines.pooledLRU(requests, capacityBlocks: 10).hitTokens == 15)
    }

    /// Unbounded, the pooled line is the oracle. Catches: a capacity that silently bounds the unbounded case.
    @Test func unboundedPooledLRUIsTheOracle() throws {
        let trace = TestWorkloads.mooncakeLike(requests: 300)
        let pooled = ReferenceLines.pooledLRU(trace.requests, capacityBlocks: nil)
        let oracle = Oracle(requests: trace.requests)
        #expect(pooled.hitTokens == oracle.hitTokens)
        #expect(ReferenceLines.belady(trace.requests, capacityBlocks: nil).hitTokens == oracle.hitTokens)
    }

    /// Capacity 2: a b a c b. LRU evicts b for c and misses it at the end (1 hit); Belady evicts a or c (never
    /// used again) and keeps b (2 hits). Catches: evicting the nearest next use, or LRU order in `belady`.
    @Test func beladyKeepsTheBlockUsedSoonest() {
        let requests = [[1], [2], [1], [3], [2]].map { Self.request($0) }
        #expect(ReferenceLines.pooledLRU(requests, capacityBlocks: 2).hitTokens == 10)
        #expect(ReferenceLines.belady(requests, capacityBlocks: 2).hitTokens == 20)
    }

    /// On a real-looking trace: pooled LRU ≤ Belady ≤ oracle, and a bigger pool never hits less.
    @Test func boundsAreOrdered() {
        let trace = TestWorkloads.mooncakeLike(requests: 400)
        let oracle = Oracle(requests: trace.requests).hitTokens
        for capacity in [4, 16, 64] {
            let lru = ReferenceLines.pooledLRU(trace.requests, capacityBlocks: capacity).hitTokens
            let belady = ReferenceLines.belady(trace.requests, capacityBlocks: capacity).hitTokens
            #expect(lru <= belady, "capacity \(capacity)")
            #expect(belady <= oracle, "capacity \(capacity)")
            #expect(lru > 0, "capacity \(capacity)")
        }
        #expect(
            ReferenceLines.pooledLRU(trace.requests, capacityBlocks: 16).hitTokens
                <= ReferenceLines.pooledLRU(trace.requests, capacityBlocks: 64).hitTokens
        )
    }

    /// 250 uncached tokens at 1,000 tokens/s in chunks of 100 with 10 ms per step: 3 steps, 0.28 s. The second
    /// request repeats the first two blocks (oracle hit 20 tokens): 230 tokens, 3 steps, 0.26 s.
    /// Catches: ignoring the chunk overhead, or the oracle's hit.
    @Test func ttftFloorIsOwnPrefillInChunksAtTheOracleHit() {
        var parameters = SimulationParameters()
        parameters.prefillTokensPerSecond = 1_000
        parameters.prefillOverheadSeconds = 0.010
        parameters.prefillBatchTokens = 100
        let one = ReferenceLines.ttftFloor([Self.request([1, 2, 3], tokens: 250)], parameters: parameters)
        #expect(abs(one.p50 - 0.28) < 0.001)
        let two = ReferenceLines.ttftFloor(
            [Self.request([1, 2, 3], tokens: 250), Self.request([1, 2, 9], tokens: 250)],
            parameters: parameters
        )
        #expect(abs(two.p50 - 0.26) < 0.001)
    }

    /// The report's pooled line uses replicas × C blocks. Catches: a per-replica pool.
    @Test func reportPoolsTheWholeFleet() throws {
        let trace = TestWorkloads.mooncakeLike(requests: 200)
        var parameters = TestWorkloads.parameters(replicas: 4, cacheBlocks: 8)
        parameters.measureRoutingCost = false
        let report = try BenchRunner.run(trace: trace, parameters: parameters, strategies: [])
        #expect(report.references.pooledLRU.capacityBlocks == 32)
        #expect(report.references.pooledLRU == ReferenceLines.pooledLRU(trace.requests, capacityBlocks: 32))
    }

    /// The shared preamble is the prefix common to every request with blocks. Catches: counting requests
    /// without blocks, or stopping at the first request's length.
    @Test func sharedLeadingBlocksIsTheTraceWidePrefix() {
        let requests = [Self.request([1, 2, 3]), Self.request([]), Self.request([1, 2, 7]), Self.request([1, 2])]
        #expect(SimulationInput.sharedLeadingBlocks(of: requests) == 2)
        #expect(SimulationInput.sharedLeadingBlocks(of: requests + [Self.request([5])]) == 0)
        #expect(SimulationInput.sharedLeadingBlocks(of: TestWorkloads.mooncakeLike().requests) == 1)
    }
}
