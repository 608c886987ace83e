@_spi(Internals) @_spi(Simulation) import PrefixRouter
import Synchronization
import Testing

@testable import _FleetSimulation

/// What a strategy saw during a run, shared by its copies (one per gateway).
final class StrategyLog: Sendable {
    struct Entry: Sendable {
        var gateway: Int
        var request: Int
        var pendingPrefill: Int
        var outstanding: Int
        var placementsSeen: Int
    }
    struct State {
        var routes: [Entry] = []
        var metrics: [ReplicaID: [EngineMetrics]] = [:]
        var placements: [(gateway: Int, replica: ReplicaID, request: Int)] = []
    }
    let state = Mutex(State())
}

/// Sends every request to the first eligible replica and logs what it saw; requests are identified by their
/// token count (tests give each a distinct one).
struct Recording: RoutingStrategy {
    let log: StrategyLog
    let gateway: Int
    var placementsSeen = 0

    mutating func choose(for request: RoutingRequest, in fleet: Fleet) -> RoutingChoice? {
        guard fleet.eligibleCount > 0 else { return nil }
        var pending = 0
        var outstanding = 0
        for position in 0..<fleet.eligibleCount {
            pending += fleet.pendingPrefillTokens(of: fleet.eligible(at: position))
            outstanding += fleet.outstanding(of: fleet.eligible(at: position))
        }
        let entry = StrategyLog.Entry(
            gateway: gateway,
            request: request.tokenCount,
            pendingPrefill: pending,
            outstanding: outstanding,
            placementsSeen: placementsSeen
        )
        log.state.withLock { $0.routes.append(entry) }
        return RoutingChoice(fleet.eligible(at: 0), reason: .roundRobin, cachedTokens: 0)
    }

    mutating func observe(_ feedback: RoutingFeedback, in fleet: Fleet) {
        switch feedback {
        case .engineMetrics(let metrics, let replica):
            log.state.withLock { $0.metrics[replica, default: []].append(metrics) }
        case .placement(let blocks, let replica):
            placementsSeen += 1
            let request = Int(blocks.last?.rawValue ?? 0)
            log.state.withLock { [gateway] in $0.placements.append((gateway, replica, request)) }
        default:
            break
        }
    }
}

@Suite struct SimulatorServiceModelTests {
    static func trace(
        _ requests: [(arrival: Double, input: Int, output: Int)],
        session: (Int) -> String? = { _ in nil }
    )
        -> Trace
    {
        Trace(
            requests: requests.enumerated().map { index, r in
                TraceRequest(
                    arrival: r.arrival,
                    inputTokens: r.input,
                    outputTokens: r.output,
                    // The last block's hash names the request (for the placement log).
                    blockHashes: [BlockHash(rawValue: 1_000_000 + UInt64(index)), BlockHash(rawValue: UInt64(index))],
                    blockSize: 16,
                    sessionKey: session(index)
                )
            },
            format: .tokens,
            source: "test",
            hasPrefixInfo: true
        )
    }

    static func parameters(gateways: Int = 1) -> SimulationParameters {
        var parameters = SimulationParameters()
        parameters.replicas = 1
        parameters.measureRoutingCost = false
        parameters.gateways = gateways
        return parameters
    }

    static func run(
        _ trace: Trace,
        _ parameters: SimulationParameters,
        log: StrategyLog = StrategyLog()
    ) throws -> SimulationRun<Recording> {
        let input = try SimulationInput(trace: trace, speedup: 1)
        let routers = try (0..<parameters.gateways).map { gateway in
            try FleetRouter(
                replicaIDs: FleetSimulator.replicaIDs(count: parameters.replicas),
                strategy: Recording(log: log, gateway: gateway)
            )
        }
        var run = SimulationRun(routers: routers, input: input, parameters: parameters)
        run.simulate()
        #expect(run.completions.allSatisfy { $0 == 1 })
        #expect(run.firstTokens.allSatisfy { $0 == 1 })
        return run
    }

    /// A 100k-token prompt is prefilled in 8,192-token chunks (13 steps) while a short request that arrived
    /// first keeps decoding: its 5 tokens are out long before the long prompt's first token. Without chunking
    /// the long prefill runs as one 10 s step and the short request finishes after it.
    /// Catches: prefilling a long prompt in one step; dropping decodes from prefill steps.
    @Test func chunkedPrefillKeepsDecodesGoing() throws {
        let run = try Self.run(Self.trace([(0, 100, 5), (0.001, 100_000, 2)]), Self.parameters())
        let longFirstToken = run.firstTokenTimes[1]
        // 13 steps of 10 ms plus 99,900 tokens (the short request's decode tokens come out of the budget, so
        // the long prompt takes 13 steps) at 10k tokens/s ≈ 10.1 s, plus the decode part of 4 mixed steps.
        #expect(longFirstToken > 10.0 && longFirstToken < 10.3)
        #expect(run.completionTimes[0] < 4, "the short request's decode was stalled by the long prefill")
        #expect(run.completionTimes[0] > run.firstTokenTimes[0])
    }

    /// A short request admitted behind a long one gets the rest of the step's budget (FIFO chunks).
    /// Catches: admitting nobody while a request is prefilling, or giving the newcomer the whole budget.
    @Test func newcomersShareTheBudgetBehindTheRequestInProgress() throws {
        // 10,000 tokens: 8,192 in step 1, 1,808 in step 2 beside the newcomer's 100.
        let run = try Self.run(Self.trace([(0, 10_000, 2), (0.001, 100, 2)]), Self.parameters())
        #expect(abs(run.firstTokenTimes[0] - run.firstTokenTimes[1]) < 1e-9)
        let expected = 2 * 0.010 + 10_100.0 / 10_000
        #expect(abs(run.firstTokenTimes[1] - 0.001 - expected) < 0.01)
    }

    /// The lease reports its first token at the end of prefill, so a request that is decoding no longer counts
    /// as pending prefill work in the router. Catches: never calling `reportFirstToken()` (pending would be
    /// 1,000), or calling it at admission.
    @Test func pendingPrefillDropsAtTheFirstToken() throws {
        let log = StrategyLog()
        // A: prefilled by ≈ 0.11 s, decodes 2,000 tokens (≈ 16 s). B arrives at 1 s, C at 0.05 s (A prefilling).
        _ = try Self.run(Self.trace([(0, 1_000, 2_000), (0.05, 1_001, 2), (1, 1_002, 2)]), Self.parameters(), log: log)
        let routes = log.state.withLock { $0.routes }
        let atC = try #require(routes.first { $0.request == 1_001 })
        #expect(atC.outstanding == 1)
        #expect(atC.pendingPrefill == 1_000)
        let atB = try #require(routes.first { $0.request == 1_002 })
        #expect(atB.outstanding == 1)  // A still decoding (C finished at ≈ 0.2 s)
        #expect(atB.pendingPrefill == 0)
    }

    /// Every router receives every engine's metrics about every 50 ms of simulated time, with the engine's own
    /// queue and KV usage. Catches: no feed, a feed per event instead of per interval, metrics of the wrong
    /// replica.
    @Test func engineMetricsAreScrapedEvery50Milliseconds() throws {
        let log = StrategyLog()
        var parameters = Self.parameters(gateways: 2)
        parameters.replicas = 2
        parameters.cacheBlocks = 1_000
        // 100 requests 20 ms apart over 2 s, each with a 4,000-token prompt: the first replica queues them.
        let requests = (0..<100).map { (arrival: Double($0) * 0.02, input: 4_000 + $0, output: 20) }
        _ = try Self.run(Self.trace(requests), parameters, log: log)
        let metrics = log.state.withLock { $0.metrics }
        let busy = try #require(metrics["replica-0"])
        let idle = try #require(metrics["replica-1"])
        // Two gateways each get every scrape; the run lasts a bit more than 2 s (prefill backlog: ≈ 40 s).
        #expect(busy.count == idle.count)
        #expect(busy.count % 2 == 0)
        #expect(busy.count / 2 >= 40 && busy.count / 2 <= 1_000)
        #expect(busy.contains { ($0.waitingRequests ?? 0) > 5 })
        #expect(busy.contains { ($0.kvCacheUsage ?? 0) > 0 })
        #expect(idle.allSatisfy { $0.waitingRequests == 0 && $0.runningRequests == 0 && $0.kvCacheUsage == 0 })
    }

    /// Per-session assignment sends a session's requests to one gateway; per-request assignment spreads them.
    /// Each gateway's router counts only its own leases. Catches: a shared router, or ignoring the assignment.
    @Test(arguments: [SimulationParameters.GatewayAssignment.perSession, .perRequest])
    func gatewaysAreIndependentAndAssignedAsAsked(assignment: SimulationParameters.GatewayAssignment) throws {
        let log = StrategyLog()
        var parameters = Self.parameters(gateways: 4)
        parameters.gatewayAssignment = assignment
        let requests = (0..<200).map { (arrival: Double($0) * 0.01, input: 100 + $0, output: 400) }
        _ = try Self.run(Self.trace(requests, session: { "session-\($0 % 10)" }), parameters, log: log)
        let routes = log.state.withLock { $0.routes }
        #expect(routes.count == 200)
        var gatewaysOfSession: [Int: Set<Int>] = [:]
        for route in routes { gatewaysOfSession[(route.request - 100) % 10, default: []].insert(route.gateway) }
        if assignment == .perSession {
            #expect(gatewaysOfSession.values.allSatisfy { $0.count == 1 })
            #expect(Set(gatewaysOfSession.values.map { $0.first! }).count >= 2)
        } else {
            #expect(gatewaysOfSession.values.allSatisfy { $0.count >= 2 })
        }
        // Everything is in flight on one replica (400 decode steps ≫ 2 s), but each router sees only its own.
        let last = try #require(routes.last)
        let ownEarlier = routes.dropLast().filter { $0.gateway == last.gateway }.count
        #expect(last.outstanding == ownEarlier)
        #expect(last.outstanding < 199)
    }

    /// With a sync delay, each decision reaches the *other* gateways exactly that much later, never its own.
    /// Catches: delivering at once, delivering to the deciding gateway, never delivering.
    @Test func decisionsReachTheOtherGatewaysAfterTheDelay() throws {
        let log = StrategyLog()
        var parameters = Self.parameters(gateways: 2)
        parameters.syncDelaySeconds = 1
        let requests = (0..<40).map { (arrival: Double($0) * 0.25, input: 100 + $0, output: 2) }
        let run = try Self.run(Self.trace(requests), parameters, log: log)
        let (routes, placements) = log.state.withLock { ($0.routes, $0.placements) }
        #expect(placements.count == 40)
        for placement in placements {
            let origin = try #require(routes.first { $0.request == 100 + placement.request })
            #expect(origin.gateway != placement.gateway)
        }
        // At each route, a gateway has seen exactly the other's decisions made at least 1 s before.
        for route in routes {
            let arrival = run.input.arrivals[route.request - 100]
            let expected = routes.filter {
                $0.gateway != route.gateway && run.input.arrivals[$0.request - 100] <= arrival - 1
            }.count
            #expect(route.placementsSeen == expected, "request \(route.request)")
        }
    }
}
