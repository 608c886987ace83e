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
        for bad in ["ettft:x=1", "ettft:l", "ettft:l=abc", "ettft:cand=some", "other:l=1", "recommended"] {
            #expect(StrategyCatalog.variant(named: bad) == nil, "\(bad)")
        }
    }

    /// The `recommended` line is the variant with its parameters: the same run, figure for figure. Catches: the
    /// named configuration drifting from what RESULTS.md says it is.
    @Test func recommendedIsItsDescribedVariant() throws {
        let trace = TestWorkloads.mooncakeLike(requests: 300)
        var parameters = TestWorkloads.parameters(cacheBlocks: 40)
        parameters.speedup = 20
        let entries = try ["recommended", "ettft:l=24:d=4:c=5", "ettft:l=0:d=4:c=5"].map {
            try #require(StrategyCatalog.entry(named: $0))
        }
        let report = try BenchRunner.run(trace: trace, parameters: parameters, strategies: entries)
        let (named, variant) = (report.strategies[0], report.strategies[1])
        #expect(named.hitTokens == variant.hitTokens)
        #expect(named.ttft == variant.ttft)
        // The workload tells λ = 0 apart, so the comparison above can fail.
        #expect(report.strategies[2].hitTokens != named.hitTokens)
    }
}
