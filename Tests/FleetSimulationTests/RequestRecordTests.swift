import Testing

@testable import _FleetSimulation

@Suite struct RequestRecordTests {
    /// With records on: one per request, in trace order, whose hits add up to the result's hit tokens and whose
    /// times are ordered (arrival ≤ first token ≤ completion); the CSV has a row each. Off: no records. Catches:
    /// a record taken from the wrong request or field (the sums would differ), a replica never set (−1), and
    /// records leaking into runs that did not ask for them.
    @Test func recordsMatchTheTotals() throws {
        let trace = TestWorkloads.mooncakeLike(requests: 200)
        var parameters = TestWorkloads.parameters(cacheBlocks: 40)
        parameters.speedup = 20
        let entry = try #require(StrategyCatalog.entry(named: "recommended"))
        let plain = try BenchRunner.run(trace: trace, parameters: parameters, strategies: [entry])
        #expect(plain.strategies[0].requests == nil)
        parameters.recordsRequests = true
        let report = try BenchRunner.run(trace: trace, parameters: parameters, strategies: [entry])
        let result = report.strategies[0]
        let records = try #require(result.requests)
        #expect(records.count == result.arrived)
        #expect(records.map(\.index) == Array(records.indices))
        #expect(records.reduce(0) { $0 + $1.cachedTokens } == result.hitTokens)
        #expect(records.reduce(0) { $0 + $1.promptTokens } == result.promptTokens)
        #expect(records.contains { $0.prefillsInLastStep > 1 })
        for record in records {
            #expect(record.arrival <= record.firstToken && record.firstToken <= record.completion)
            #expect((0..<parameters.replicas).contains(record.replica))
            #expect(record.prefillsInLastStep >= 1)
        }
        // The same run without records gives the same figures: recording observes only.
        #expect(result.ttft == plain.strategies[0].ttft && result.hitTokens == plain.strategies[0].hitTokens)
        #expect(ReportFormatter.requestLog(report).split(separator: "\n").count == records.count + 1)
    }
}
