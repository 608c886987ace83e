@testable import FleetSimulation
import PrefixRouter
import Testing

@Suite struct ChurnTests {
    @Test func ringStrategiesMoveOnlyTheRemovedReplicasShare() throws {
        let trace = TestWorkloads.mooncakeLike(requests: 400)
        var parameters = TestWorkloads.parameters(replicas: 8)
        parameters.churn = true
        let names = ["consistent-hash", "round-robin"]
        let report = try BenchRunner.run(
            trace: trace, parameters: parameters, strategies: names.compactMap(StrategyCatalog.entry(named:)))
        let ring = try #require(report.strategies.first)
        #expect(ring.churn.map(\.change) == ["remove replica-7", "add replica-7"])
        for change in ring.churn {
            #expect(change.probes > 100)
            // Removing one of 8 replicas moves only the keys it owned: 1/8 expected; allow sampling noise but
            // never anything like a reshuffle.
            #expect(change.moved > 0)
            #expect(Double(change.moved) / Double(change.probes) < 0.3, "\(change)")
        }
    }
}
