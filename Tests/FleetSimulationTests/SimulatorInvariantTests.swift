@_spi(Internals) import PrefixRouter
import Testing

@testable import _FleetSimulation

@Suite struct SimulatorInvariantTests {
    static func trace(named name: String) throws -> Trace {
        name == "synthetic" ? try TestWorkloads.synthetic() : TestWorkloads.mooncakeLike()
    }

    /// Runs the simulator itself (not through the catalog) so that per-request state can be inspected.
    func checkEachRequestCompletesOnce<S: RoutingStrategy>(
        _ strategy: S,
        _ input: SimulationInput,
        _ name: String
    ) throws {
        var parameters = TestWorkloads.parameters()
        parameters.churn = true
        let router = try FleetRouter(
            replicaIDs: FleetSimulator.replicaIDs(count: parameters.replicas),
            strategy: strategy
        )
        var run = SimulationRun(router: router, input: input, parameters: parameters)
        run.simulate()
        #expect(run.arrived == input.requests.count, "\(name)")
        #expect(run.completions.allSatisfy { $0 == 1 }, "\(name): some request completed 0 or 2+ times")
        #expect(router.liveLeaseCount == 0, "\(name): leases left unreleased")
        #expect(run.replicas.allSatisfy { $0.running == 0 && $0.queueIsEmpty && $0.cache.pinnedBlocks == 0 }, "\(name)")
        #expect(run.churn.count == 2, "\(name)")
    }

    @Test(arguments: ["synthetic", "mooncake-like"])
    func everyRequestArrivesOnceAndCompletesOnce(traceName: String) throws {
        let trace = try Self.trace(named: traceName)
        let input = try SimulationInput(trace: trace, speedup: 1)
        try checkEachRequestCompletesOnce(RoundRobin(), input, "round-robin")
        try checkEachRequestCompletesOnce(LeastOutstanding(seed: 1), input, "least-outstanding")
        try checkEachRequestCompletesOnce(PrefixAffinity(fallback: LeastOutstanding(seed: 1)), input, "prefix-affinity")
        try checkEachRequestCompletesOnce(
            PlainConsistentHash(fallback: LeastOutstanding(seed: 1)),
            input,
            "consistent-hash"
        )
        for entry in StrategyCatalog.all {
            var parameters = TestWorkloads.parameters()
            parameters.churn = true
            let result = try entry.run(input: input, parameters: parameters, oracle: Oracle(requests: trace.requests))
            #expect(result.arrived == trace.requests.count, "\(entry.name)")
            #expect(result.completed == trace.requests.count, "\(entry.name)")
            #expect(result.unrouted == 0, "\(entry.name)")
            // Hit plus missed tokens is every prompt token, once.
            #expect(result.promptTokens == trace.requests.reduce(0) { $0 + $1.inputTokens }, "\(entry.name)")
            #expect(result.hitTokens + result.inPrefillTokens <= result.promptTokens, "\(entry.name)")
            #expect(result.outputTokens == trace.requests.reduce(0) { $0 + $1.outputTokens }, "\(entry.name)")
        }
    }

    @Test(arguments: ["synthetic", "mooncake-like"])
    func noStrategyBeatsTheOracle(traceName: String) throws {
        let trace = try Self.trace(named: traceName)
        for cacheBlocks in [50, 400, 0] {
            let report = try BenchRunner.run(
                trace: trace,
                parameters: TestWorkloads.parameters(cacheBlocks: cacheBlocks),
                strategies: StrategyCatalog.all
            )
            #expect(report.oracle.hitTokens > 0)
            for result in report.strategies {
                #expect(
                    result.hitTokens + result.inPrefillTokens <= report.oracle.hitTokens,
                    "\(result.strategy) with cache \(cacheBlocks)"
                )
            }
        }
    }

    @Test(arguments: ["synthetic", "mooncake-like"])
    func oneReplicaMakesEveryStrategyIdentical(traceName: String) throws {
        let trace = try Self.trace(named: traceName)
        let report = try BenchRunner.run(
            trace: trace,
            parameters: TestWorkloads.parameters(replicas: 1),
            strategies: StrategyCatalog.all
        )
        let first = try #require(report.strategies.first)
        for result in report.strategies.dropFirst() {
            // Everything but the name and the reasons (labels differ by strategy) must match.
            var comparable = result
            comparable.strategy = first.strategy
            comparable.reasons = first.reasons
            comparable.spillRate = first.spillRate
            comparable.fallbackRate = first.fallbackRate
            #expect(comparable == first, "\(result.strategy) differs from \(first.strategy) with one replica")
        }
    }

    @Test(arguments: ["synthetic", "mooncake-like"])
    func oneReplicaWithUnboundedCacheReachesTheOracle(traceName: String) throws {
        let trace = try Self.trace(named: traceName)
        let report = try BenchRunner.run(
            trace: trace,
            parameters: TestWorkloads.parameters(replicas: 1, cacheBlocks: 0),
            strategies: StrategyCatalog.all
        )
        for result in report.strategies {
            #expect(result.hitTokens + result.inPrefillTokens == report.oracle.hitTokens, "\(result.strategy)")
        }
    }

    /// Requests that queue behind a busy replica and share a prefix are prefilled in one step: all but the
    /// first find the shared blocks resident but not computed yet. Those are counted apart, not as hits, and
    /// with them the oracle is met exactly.
    @Test func blocksStillBeingPrefilledAreCountedApart() throws {
        let hash = MooncakeLineParser.blockHash(ofID:)
        let shared = (0..<4).map(hash)
        // Request 0 (unrelated prefix) keeps the replica busy while requests 1...5 queue behind it.
        var requests = [
            TraceRequest(
                arrival: 0,
                inputTokens: 6 * 16,
                outputTokens: 4,
                blockHashes: (50..<56).map(hash),
                blockSize: 16
            )
        ]
        requests += (1...5).map { index in
            TraceRequest(
                arrival: 0,
                inputTokens: 6 * 16,
                outputTokens: 4,
                blockHashes: shared + [hash(100 + index), hash(200 + index)],
                blockSize: 16
            )
        }
        let trace = Trace(requests: requests, format: .mooncake, source: "test", hasPrefixInfo: true)
        let report = try BenchRunner.run(
            trace: trace,
            parameters: TestWorkloads.parameters(replicas: 1, cacheBlocks: 0),
            strategies: [try #require(StrategyCatalog.entry(named: "round-robin"))]
        )
        let result = try #require(report.strategies.first)
        #expect(report.oracle.hitTokens == 4 * 4 * 16)
        #expect(result.hitTokens == 0)
        #expect(result.inPrefillTokens == 4 * 4 * 16)
    }
}
