import PrefixRouter
import Testing

@testable import _FleetSimulation

@Suite struct PinnedPooledLineTests {
    /// Prefill at 1,000 tokens/s with no step overhead, decode 1 s per token: a request of 20 tokens and
    /// `output` tokens runs 0.02 s + (output − 1) s from its arrival.
    static var parameters: SimulationParameters {
        var parameters = SimulationParameters()
        parameters.prefillTokensPerSecond = 1_000
        parameters.prefillOverheadSeconds = 0
        parameters.decodeStepSeconds = 1
        parameters.decodeSecondsPerContextToken = 0
        return parameters
    }

    static func request(_ ids: [UInt64], at time: Double, output: Int = 1) -> TraceRequest {
        TraceRequest(
            arrival: time,
            inputTokens: ids.count * 10,
            outputTokens: output,
            blockHashes: ids.map { BlockHash(rawValue: $0) },
            blockSize: 10
        )
    }

    /// Capacity 2. [1 2] runs from 0 to about 100 s; [3] at 1 s finds every block pinned and is not cached, so
    /// [3] again at 2 s misses; at 150 s [1 2] has ended, [3] is cached (evicting 2) and hits at 151 s: 10
    /// tokens. The unpinned pool evicts 2 for 3 at once and hits [3] three times (30). Catches: evicting pinned
    /// blocks or releasing at arrival (30), and never releasing (0).
    @Test func runningRequestsKeepTheirBlocksUntilTheyEnd() {
        let requests = [
            Self.request([1, 2], at: 0, output: 100), Self.request([3], at: 1), Self.request([3], at: 2),
            Self.request([3], at: 150), Self.request([3], at: 151),
        ]
        let pinned = ReferenceLines.pooledPinnedLRU(requests, capacityBlocks: 2, parameters: Self.parameters)
        #expect(pinned.hitTokens == 10)
        #expect(pinned.promptTokens == 60)
        #expect(ReferenceLines.pooledLRU(requests, capacityBlocks: 2).hitTokens == 30)
    }

    /// Two requests with the same blocks 10 ms apart: the first is still prefilling (20 ms), so the second does
    /// not hit; a third after the prefill hits. Catches: counting blocks as hits before they are computed.
    @Test func blocksAreHitsOnlyOnceComputed() {
        let requests = [Self.request([1, 2], at: 0), Self.request([1, 2], at: 0.01), Self.request([1, 2], at: 0.05)]
        let pinned = ReferenceLines.pooledPinnedLRU(requests, capacityBlocks: 8, parameters: Self.parameters)
        #expect(pinned.hitTokens == 20)
        #expect(ReferenceLines.pooledLRU(requests, capacityBlocks: 8).hitTokens == 40)
    }

    /// The line is timed: [1 2] runs 2.02 s; at speed-up 1 it has ended when [3] arrives at 2.5 s ([3] is cached
    /// and hits at 3 s), at speed-up 2 ([3] at 1.25 s and 1.5 s) it still pins the pool. Catches: ignoring the
    /// speed-up.
    @Test func speedUpPinsLonger() {
        let requests = [Self.request([1, 2], at: 0, output: 3), Self.request([3], at: 2.5), Self.request([3], at: 3)]
        var parameters = Self.parameters
        #expect(ReferenceLines.pooledPinnedLRU(requests, capacityBlocks: 2, parameters: parameters).hitTokens == 10)
        parameters.speedup = 2
        #expect(ReferenceLines.pooledPinnedLRU(requests, capacityBlocks: 2, parameters: parameters).hitTokens == 0)
    }
}
