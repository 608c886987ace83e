import PrefixRouter
import Testing

@testable import _FleetSimulation

@Suite struct StrategyVariantTests {
    /// A variant name parses into an entry named as written; unknown keys, malformed settings, bad candidate
    /// sets and other prefixes do not. Catches: a parser that ignores what it does not know (a typo would
    /// silently run the defaults).
    @Test func variantNamesParseStrictly() {
        #expect(StrategyCatalog.entry(named: "ettft:l=24:d=4:c=5:ix=1.1")?.name == "ettft:l=24:d=4:c=5:ix=1.1")
        #expect(StrategyCatalog.variant(named: "ettft") != nil)
        #expect(StrategyCatalog.variant(named: "ettft:cand=two:em=1:tr=1") != nil)
        #expect(StrategyCatalog.variant(named: "ettft:rel=30")?.placementAtRelease == 30)
        #expect(StrategyCatalog.variant(named: "ettft:rel=inf")?.placementAtRelease == .infinity)
        #expect(StrategyCatalog.variant(named: "ettft:l=8")?.placementAtRelease == nil)
        for bad in [
            "ettft:x=1", "ettft:l", "ettft:l=abc", "ettft:rel=soon", "ettft:cand=some", "other:l=1", "recommended",
        ] {
            #expect(StrategyCatalog.variant(named: bad) == nil, "\(bad)")
        }
    }

    /// The `recommended` line is the variant with its parameters, placement at release at 30 s included, and
    /// `recommended-no-release` the same without it: the same runs, figure for figure. Catches: the named
    /// configuration drifting from what RESULTS.md says it is (its parameters, or its release limit).
    @Test func recommendedIsItsDescribedVariant() throws {
        let trace = TestWorkloads.mooncakeLike(requests: 300)
        var parameters = TestWorkloads.parameters(cacheBlocks: 40)
        parameters.speedup = 20
        let entries = try [
            "recommended", "ettft:l=24:d=4:c=5:rel=30", "recommended-no-release", "ettft:l=24:d=4:c=5",
            "ettft:l=0:d=4:c=5",
        ].map { try #require(StrategyCatalog.entry(named: $0)) }
        #expect(entries[0].placementAtRelease == 30 && entries[2].placementAtRelease == nil)
        let report = try BenchRunner.run(trace: trace, parameters: parameters, strategies: entries)
        let lines = report.strategies
        #expect(lines[0].hitTokens == lines[1].hitTokens && lines[0].ttft == lines[1].ttft)
        #expect(lines[2].hitTokens == lines[3].hitTokens && lines[2].ttft == lines[3].ttft)
        // The workload tells the release and λ = 0 apart, so the comparisons above can fail.
        #expect(lines[0].hitTokens != lines[2].hitTokens)
        #expect(lines[4].hitTokens != lines[2].hitTokens)
    }

    /// The `recommended` line is `EstimatedTTFT.recommendedSingleGateway` (what the gateway's
    /// `estimated-ttft-single` builds) with the index sized like the cache and release at 30 s, and
    /// `recommended-multi` is `recommendedMultiGateway` with no release (the gateway's default `estimated-ttft`):
    /// the same runs, figure for figure. Catches: the bench's lines and the gateway's strategies drifting apart.
    @Test func recommendedLinesAreTheLibraryFactories() throws {
        let trace = TestWorkloads.mooncakeLike(requests: 300)
        var parameters = TestWorkloads.parameters(cacheBlocks: 40)
        parameters.speedup = 20
        let single = StrategyCatalog.Entry("single", "factory", placementAtRelease: 30) {
            try EstimatedTTFT.recommendedSingleGateway(
                capacityPerReplica: $0.cacheBlocksPerReplica,
                fallback: LeastOutstanding(seed: $0.seed),
                seed: $0.seed
            )
        }
        let multi = StrategyCatalog.Entry("multi", "factory") {
            try EstimatedTTFT.recommendedMultiGateway(
                capacityPerReplica: $0.cacheBlocksPerReplica,
                keyDepthTokens: $0.keyDepthTokens,
                fallback: LeastOutstanding(seed: $0.seed),
                seed: $0.seed
            )
        }
        let named = try ["recommended", "recommended-multi", "recommended-no-release"].map {
            try #require(StrategyCatalog.entry(named: $0))
        }
        #expect(named[0].placementAtRelease == StrategyCatalog.recommendedPlacementAtRelease)
        #expect(StrategyCatalog.recommendedPlacementAtRelease == 30 && named[1].placementAtRelease == nil)
        let report = try BenchRunner.run(
            trace: trace,
            parameters: parameters,
            strategies: [named[0], single] + [
                named[1], multi, named[2],
            ]
        )
        let lines = report.strategies
        #expect(lines[0].hitTokens == lines[1].hitTokens && lines[0].ttft == lines[1].ttft)
        #expect(lines[2].hitTokens == lines[3].hitTokens && lines[2].ttft == lines[3].ttft)
        // The workload tells the lines apart, so the comparisons above can fail.
        #expect(lines[0].hitTokens != lines[2].hitTokens && lines[0].hitTokens != lines[4].hitTokens)
    }
}
