import PrefixRouter
import Synchronization
import Testing

@testable import _FleetSimulation

/// Least outstanding, counting the `.placement` feedback it receives (shared across the simulator's copies).
private struct PlacementCounter: RoutingStrategy {
    final class Count: Sendable {
        let value = Mutex(0)
    }

    let count: Count
    var inner = LeastOutstanding(seed: 1)

    mutating func choose(for request: RoutingRequest, in fleet: Fleet) -> RoutingChoice? {
        inner.choose(for: request, in: fleet)
    }

    mutating func observe(_ feedback: RoutingFeedback, in fleet: Fleet) {
        if case .placement = feedback { count.value.withLock { $0 += 1 } }
    }
}

@Suite struct PlacementAtReleaseTests {
    /// Off: no placement feedback with one gateway. `.infinity`: one per completed request. A limit between:
    /// exactly the requests whose TTFT (from the request records) was within it. Catches: ignoring the limit
    /// (or comparing it with the end-to-end latency), reporting a request twice or not at all, and reporting
    /// when off.
    @Test func reportsCompletedRequestsWithinTheTTFTLimit() throws {
        let trace = TestWorkloads.mooncakeLike(requests: 200)
        var parameters = TestWorkloads.parameters(cacheBlocks: 40)
        parameters.speedup = 20
        parameters.recordsRequests = true
        func run(_ limit: Double?) throws -> (placements: Int, records: [RequestRecord]) {
            let count = PlacementCounter.Count()
            let entry = StrategyCatalog.Entry("counter", "test") { _ in PlacementCounter(count: count) }
            var run = parameters
            run.placementAtReleaseMaxTTFT = limit
            let report = try BenchRunner.run(trace: trace, parameters: run, strategies: [entry])
            return (count.value.withLock { $0 }, try #require(report.strategies[0].requests))
        }
        #expect(try run(nil).placements == 0)
        let all = try run(.infinity)
        #expect(all.placements == all.records.count)
        let ttfts = all.records.compactMap(\.timeToFirstToken).sorted()
        let median = ttfts[ttfts.count / 2]
        let some = try run(median)
        #expect(some.placements == ttfts.filter { $0 <= median }.count)
        #expect(some.placements < all.placements)
    }

    /// A negative limit is refused, naming the flag. Catches: a limit that silently disables the feature.
    @Test func rejectsANegativeLimit() {
        var parameters = SimulationParameters()
        parameters.placementAtReleaseMaxTTFT = -1
        #expect(throws: SimulationError.self) { try parameters.validate() }
        parameters.placementAtReleaseMaxTTFT = .infinity
        #expect(throws: Never.self) { try parameters.validate() }
    }
}

@Suite struct RecommendedPlacementAtReleaseTests {
    /// `recommended` reports at release on its own (30 s); `--placement-at-release` (the run's parameter)
    /// replaces its limit and applies to every line; the peers, which ignore `.placement`, give the same figures
    /// with it and without. Catches: a named configuration whose release is not applied, a flag that no longer
    /// reaches the other lines, and a peer that starts learning from placements (its lines in RESULTS.md would
    /// change).
    @Test func recommendedReleasesAndPeersIgnoreIt() throws {
        let trace = TestWorkloads.mooncakeLike(requests: 300)
        var parameters = TestWorkloads.parameters(cacheBlocks: 40)
        parameters.speedup = 20
        let names = [
            "recommended", "recommended-no-release", "ettft:l=24:d=4:c=5:rel=inf", "sglang-cache-aware", "llm-d",
            "kubeai-chwbl", "recommended-multi",
        ]
        let entries = try names.map { try #require(StrategyCatalog.entry(named: $0)) }
        let plain = try BenchRunner.run(trace: trace, parameters: parameters, strategies: entries).strategies
        var flagged = parameters
        flagged.placementAtReleaseMaxTTFT = .infinity
        let everyLine = try BenchRunner.run(trace: trace, parameters: flagged, strategies: entries).strategies

        #expect(plain[0].hitTokens != plain[1].hitTokens, "release changes recommended on this workload")
        // The flag: recommended and the no-release line both take the run's limit.
        #expect(everyLine[0].hitTokens == plain[2].hitTokens && everyLine[0].ttft == plain[2].ttft)
        #expect(everyLine[1].hitTokens == plain[2].hitTokens && everyLine[1].ttft == plain[2].ttft)
        // recommended-multi learns from placements too: the flag reaches it.
        #expect(everyLine[6].hitTokens != plain[6].hitTokens)
        for peer in 3...5 {
            #expect(everyLine[peer].hitTokens == plain[peer].hitTokens, "\(names[peer])")
            #expect(everyLine[peer].ttft == plain[peer].ttft, "\(names[peer])")
            #expect(everyLine[peer].endToEnd == plain[peer].endToEnd, "\(names[peer])")
        }
    }
}
