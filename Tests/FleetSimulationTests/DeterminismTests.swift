@_spi(Internals) import PrefixRouter
import Testing

@testable import _FleetSimulation

@Suite struct DeterminismTests {
    func report(seed: UInt64, churn: Bool = true) throws -> String {
        let trace = try TestWorkloads.synthetic(seed: seed, requests: 150)
        var parameters = TestWorkloads.parameters()
        parameters.seed = seed
        parameters.churn = churn
        return try BenchRunner.run(
            trace: trace,
            parameters: parameters,
            strategies: StrategyCatalog.all,
            synthetic: SyntheticWorkload()
        ).json()
    }

    @Test(arguments: [1, 42] as [UInt64])
    func sameSeedGivesByteIdenticalJSON(seed: UInt64) throws {
        let first = try report(seed: seed)
        let second = try report(seed: seed)
        #expect(first == second, "seed \(seed)")
        #expect(!first.contains("routingNanosecondsPerCall"), "wall-clock figures must stay out when timing is off")
    }

    /// Several gateways with decision sharing stay deterministic too (gateway draws are seeded, placements are
    /// delivered in time order). Catches: an unseeded gateway assignment or a delivery order that depends on
    /// hashing.
    @Test func multiGatewayRunsAreByteIdentical() throws {
        func run() throws -> String {
            let trace = TestWorkloads.mooncakeLike(requests: 150)
            var parameters = TestWorkloads.parameters()
            parameters.gateways = 3
            parameters.syncDelaySeconds = 0.5
            return try BenchRunner.run(
                trace: trace,
                parameters: parameters,
                strategies: ["recommended", "recommended-multi", "sglang-cache-aware", "llm-d"].compactMap {
                    StrategyCatalog.entry(named: $0)
                },
                gatewayAssignments: [.perRequest, .perSession]
            ).json()
        }
        let first = try run()
        #expect(first == (try run()))
        #expect(first.contains("\"gateways\" : 3"))
    }

    @Test func differentSeedsGiveDifferentWorkloads() throws {
        #expect(try report(seed: 1, churn: false) != report(seed: 2, churn: false))
    }

    @Test func theSyntheticWorkloadIsAPureFunctionOfItsParameters() throws {
        let a = try TestWorkloads.synthetic(seed: 9)
        let b = try TestWorkloads.synthetic(seed: 9)
        #expect(a.requests == b.requests)
        // It has what it promises: sessions with growing prefixes, and one-offs.
        let sessions = Dictionary(grouping: a.requests.filter { $0.sessionKey != nil }, by: \.sessionKey)
        let multiTurn = sessions.values.filter { $0.count >= 2 }
        #expect(!multiTurn.isEmpty, "seed 9")
        for turns in multiTurn {
            for (earlier, later) in zip(turns, turns.dropFirst()) {
                #expect(later.inputTokens > earlier.inputTokens, "seed 9")
                #expect(Array(later.blockHashes.prefix(earlier.blockHashes.count)) == earlier.blockHashes, "seed 9")
            }
        }
        #expect(a.requests.contains { $0.sessionKey == nil }, "seed 9: no one-off requests")
        #expect(zip(a.requests, a.requests.dropFirst()).allSatisfy { $0.arrival <= $1.arrival })
    }
}
