import Histogram
@_spi(Simulation) public import PrefixRouter

/// Replays a trace through a simulated fleet routed by one strategy: a discrete-event simulation,
/// deterministic for a given input, parameters and strategy seed.
///
/// Each arrival is routed through a ``PrefixRouter/FleetRouter`` (simulated time passed as the `now` of
/// ``PrefixRouter/Router/route(_:at:)``), queued FIFO at the chosen replica, admitted when a running slot
/// and KV memory are free, prefilled (uncached tokens only) in a batched step, then decoded step by step;
/// the lease is released at completion. See ``SimulationParameters`` for the service model.
///
/// Decode runs between events are advanced in one jump (the batch, hence the step time, is constant until
/// something finishes or arrives), so the cost is O(requests × (log replicas + blocks per request)), not
/// O(decode steps).
public enum FleetSimulator {
    /// Replica ids used by every run: `replica-0` … `replica-(n−1)`.
    public static func replicaIDs(count: Int) -> [ReplicaID] {
        (0..<count).map { ReplicaID(rawValue: "replica-\($0)") }
    }

    /// Runs `strategy` over `input`.
    ///
    /// - Parameters:
    ///   - name: the strategy's catalog name, copied into the result.
    ///   - oracle: the input's hit-rate upper bound, for the hit/oracle ratio.
    ///   - progress: called now and then with the share of arrivals processed.
    /// - Throws: ``SimulationError`` for invalid parameters.
    public static func run<Strategy: RoutingStrategy>(
        _ strategy: Strategy,
        name: String,
        input: SimulationInput,
        parameters: SimulationParameters,
        oracle: Oracle,
        configuration: FleetConfiguration? = nil,
        progress: ((Double) -> Void)? = nil
    ) throws(SimulationError) -> StrategyResult {
        try parameters.validate()
        if parameters.churn, parameters.replicas < 2 {
            throw SimulationError("--churn: expected at least 2 replicas, found \(parameters.replicas)")
        }
        let router: FleetRouter<Strategy>
        do {
            router = try FleetRouter(
                replicaIDs: replicaIDs(count: parameters.replicas),
                strategy: strategy,
                configuration: configuration ?? parameters.fleetConfiguration
            )
        } catch {
            throw SimulationError("cannot build the router: \(error)")
        }
        var run = SimulationRun(router: router, input: input, parameters: parameters)
        run.progress = progress
        run.simulate()
        return run.result(name: name, oracle: oracle)
    }
}

/// The state of one simulation run.
struct SimulationRun<Strategy: RoutingStrategy> {
    let router: FleetRouter<Strategy>
    let input: SimulationInput
    let parameters: SimulationParameters
    let replicaIDs: [ReplicaID]
    let indexOfID: [ReplicaID: Int]
    var progress: ((Double) -> Void)?

    var replicas: [ReplicaState]
    var events = MinHeap<ReplicaEvent>()
    var eventSequence: UInt64 = 0
    var load: LoadTracker
    let baseInstant = ContinuousClock.now

    // Per request.
    var leases: [Lease?]
    var pinned: [[Int32]]
    var anonymousHeld: [Int]
    /// Completions per request (each must end at exactly 1: checked by the conservation tests).
    var completions: [UInt8]

    // Totals.
    var arrived = 0
    var completed = 0
    var unrouted = 0
    var promptTokens = 0
    var hitTokens = 0
    var inPrefillTokens = 0
    var outputTokens = 0
    var lastCompletion = 0.0
    var reasons: [RoutingReason: Int] = [:]
    var ttft = SimulationRun.makeHistogram()
    var endToEnd = SimulationRun.makeHistogram()

    // Churn.
    var churnPlan: [(time: Double, remove: Bool)] = []
    var churn: [ChurnMeasurement] = []
    var recentRequests: [Int32] = []

    // Routing cost.
    var routingTime = Duration.zero
    var routeCalls = 0
    var clockOverhead = Duration.zero

    init(router: FleetRouter<Strategy>, input: SimulationInput, parameters: SimulationParameters) {
        self.router = router
        self.input = input
        self.parameters = parameters
        self.replicaIDs = FleetSimulator.replicaIDs(count: parameters.replicas)
        self.indexOfID = Dictionary(uniqueKeysWithValues: replicaIDs.enumerated().map { ($1, $0) })
        let capacity = parameters.cacheCapacity(blockSize: input.blockSize)
        self.replicas = (0..<parameters.replicas).map { _ in ReplicaState(cacheCapacity: capacity) }
        let start = input.arrivals.first ?? 0
        self.load = LoadTracker(replicas: parameters.replicas, start: start)
        let count = input.requests.count
        self.leases = Array(repeating: nil, count: count)
        self.pinned = Array(repeating: [], count: count)
        self.anonymousHeld = Array(repeating: 0, count: count)
        self.completions = Array(repeating: 0, count: count)
        if parameters.churn, let last = input.arrivals.last {
            let span = last - start
            churnPlan = [(start + 0.4 * span, true), (start + 0.6 * span, false)]
        }
    }

    static func makeHistogram() -> Histogram<UInt64> {
        Histogram<UInt64>(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
    }

    // MARK: Event loop

    mutating func simulate() {
        if parameters.measureRoutingCost { calibrateClock() }
        var nextArrival = 0
        let count = input.arrivals.count
        let progressStride = max(1, count / 100)
        while true {
            while let top = events.min, replicas[Int(top.replica)].version != top.version { _ = events.pop() }
            let arrivalTime = nextArrival < count ? input.arrivals[nextArrival] : Double.infinity
            let churnTime = churnPlan.first?.time ?? Double.infinity
            if let top = events.min, top.time <= arrivalTime, top.time <= churnTime {
                _ = events.pop()
                stepEnded(Int(top.replica), at: top.time)
            } else if churnTime <= arrivalTime, churnTime.isFinite {
                let change = churnPlan.removeFirst()
                changeMembership(remove: change.remove, at: change.time)
            } else if arrivalTime.isFinite {
                arrive(Int32(nextArrival), at: arrivalTime)
                nextArrival += 1
                if let progress, nextArrival % progressStride == 0 { progress(Double(nextArrival) / Double(count)) }
            } else {
                break
            }
        }
    }

    mutating func schedule(_ replica: Int, at time: Double) {
        replicas[replica].version &+= 1
        eventSequence &+= 1
        events.push(
            ReplicaEvent(
                time: time,
                sequence: eventSequence,
                replica: Int32(replica),
                version: replicas[replica].version
            )
        )
    }

    // MARK: Arrivals

    mutating func arrive(_ request: Int32, at time: Double) {
        arrived += 1
        let routing = input.routingRequests[Int(request)]
        let now = baseInstant.advanced(by: .seconds(time))
        let decision: RoutingDecision?
        if parameters.measureRoutingCost {
            let clock = ContinuousClock()
            let start = clock.now
            decision = router.route(routing, at: now)
            routingTime += clock.now - start
            routeCalls += 1
        } else {
            decision = router.route(routing, at: now)
        }
        guard let decision, let replica = indexOfID[decision.replica] else {
            unrouted += 1
            return
        }
        leases[Int(request)] = decision.lease
        reasons[decision.reason, default: 0] += 1
        load.change(replica, by: 1, at: time)
        if parameters.churn {
            if recentRequests.count == 1_000 { recentRequests.removeFirst() }
            recentRequests.append(request)
        }
        let wasEmpty = replicas[replica].queueIsEmpty
        replicas[replica].enqueue(request)
        switch replicas[replica].activity {
        case .idle:
            startNext(replica, at: time)
        case .decodeRun(let start, let stepSeconds, let steps) where wasEmpty:
            // Stop the run at the end of the step in progress so that the newcomer joins the next step.
            let done = min(steps, max(1, Int(((time - start) / stepSeconds).rounded(.up))))
            if done < steps {
                replicas[replica].activity = .decodeRun(start: start, stepSeconds: stepSeconds, steps: done)
                schedule(replica, at: max(time, start + Double(done) * stepSeconds))
            }
        default:
            break
        }
    }

    // MARK: Steps

    func decodeStepSeconds(_ replica: Int) -> Double {
        parameters.decodeStepSeconds
            + parameters.decodeSecondsPerContextToken * Double(replicas[replica].decodeContextTokens)
    }

    /// Admits queued requests into a prefill step, or starts a decode run, or goes idle.
    mutating func startNext(_ replica: Int, at time: Double) {
        let blockSize = input.blockSize
        var batchUncached = 0
        while !replicas[replica].queueIsEmpty, replicas[replica].running < parameters.maxRunningRequests {
            let request = replicas[replica].queue[replicas[replica].queueHead]
            let trace = input.requests[Int(request)]
            let neededBlocks = (trace.inputTokens + blockSize - 1) / blockSize
            let anonymous = max(0, neededBlocks - trace.blockHashes.count)
            let lookup = replicas[replica].cache.lookup(trace.blockHashes, anonymous: anonymous, now: time)
            let hit = min(lookup.readyBlocks * blockSize, trace.inputTokens)
            let present = min(lookup.presentBlocks * blockSize, trace.inputTokens)
            let uncached = trace.inputTokens - hit
            if !replicas[replica].prefilling.isEmpty, batchUncached + uncached > parameters.prefillBatchTokens { break }
            // An oversized request is admitted alone rather than never (it caches what fits).
            if !replicas[replica].cache.fits(newPins: lookup.newPins), replicas[replica].running > 0 { break }
            let admitted = replicas[replica].cache.admit(trace.blockHashes, anonymous: anonymous, readyAt: .infinity)
            pinned[Int(request)] = admitted.entries
            anonymousHeld[Int(request)] = admitted.anonymous
            hitTokens += hit
            inPrefillTokens += present - hit
            promptTokens += trace.inputTokens
            batchUncached += uncached
            replicas[replica].prefilling.append(request)
            replicas[replica].running += 1
            replicas[replica].queueHead += 1
        }
        if !replicas[replica].prefilling.isEmpty {
            let decodePart = replicas[replica].decoders.isEmpty ? 0 : decodeStepSeconds(replica)
            let end =
                time + decodePart + parameters.prefillOverheadSeconds
                + Double(batchUncached) / parameters.prefillTokensPerSecond
            for request in replicas[replica].prefilling {
                replicas[replica].cache.setReady(pinned[Int(request)], at: end)
            }
            replicas[replica].activity = .step
            schedule(replica, at: end)
        } else if let first = replicas[replica].decoders.min {
            let steps = max(1, first.step - replicas[replica].steps)
            let stepSeconds = decodeStepSeconds(replica)
            replicas[replica].activity = .decodeRun(start: time, stepSeconds: stepSeconds, steps: steps)
            schedule(replica, at: time + Double(steps) * stepSeconds)
        } else {
            replicas[replica].activity = .idle
        }
    }

    mutating func stepEnded(_ replica: Int, at time: Double) {
        switch replicas[replica].activity {
        case .idle:
            return
        case .step:
            replicas[replica].steps += 1
            let prefilled = replicas[replica].prefilling
            replicas[replica].prefilling.removeAll(keepingCapacity: true)
            for request in prefilled {
                let trace = input.requests[Int(request)]
                record(&ttft, time - input.arrivals[Int(request)])
                if trace.outputTokens <= 1 {
                    finish(request, on: replica, at: time)
                } else {
                    replicas[replica].decoders.push(
                        DecodeFinish(step: replicas[replica].steps + trace.outputTokens - 1, request: request)
                    )
                    replicas[replica].decodeContextTokens += trace.inputTokens
                }
            }
        case .decodeRun(_, _, let steps):
            replicas[replica].steps += steps
        }
        while let first = replicas[replica].decoders.min, first.step <= replicas[replica].steps {
            _ = replicas[replica].decoders.pop()
            replicas[replica].decodeContextTokens -= input.requests[Int(first.request)].inputTokens
            finish(first.request, on: replica, at: time)
        }
        startNext(replica, at: time)
    }

    mutating func finish(_ request: Int32, on replica: Int, at time: Double) {
        let index = Int(request)
        replicas[replica].cache.release(pinned[index], anonymous: anonymousHeld[index])
        pinned[index] = []
        replicas[replica].running -= 1
        leases[index]?.release()
        leases[index] = nil
        load.change(replica, by: -1, at: time)
        completed += 1
        completions[index] &+= 1
        outputTokens += input.requests[index].outputTokens
        lastCompletion = max(lastCompletion, time)
        record(&endToEnd, time - input.arrivals[index])
    }

    func record(_ histogram: inout Histogram<UInt64>, _ seconds: Double) {
        let micros = UInt64(max(0, min(seconds * 1e6, 9.9e9)).rounded())
        _ = histogram.record(micros)
    }

    // MARK: Churn

    mutating func changeMembership(remove: Bool, at time: Double) {
        let id = replicaIDs[replicaIDs.count - 1]
        let probes = recentRequests.map { input.routingRequests[Int($0)] }
        let before = probe(probes)
        do {
            if remove { try router.remove(id) } else { try router.add(Replica(id: id)) }
        } catch {
            return
        }
        let after = probe(probes)
        let moved = zip(before, after).filter { $0 != $1 }.count
        churn.append(
            ChurnMeasurement(
                change: "\(remove ? "remove" : "add") \(id)",
                time: time,
                probes: probes.count,
                moved: moved
            )
        )
    }

    /// Where a throw-away copy of the strategy would send each probe now (no lease is taken).
    func probe(_ probes: [RoutingRequest]) -> [ReplicaID?] {
        router.withStrategy { fleet, strategy in
            var copy = strategy
            return probes.map { request in copy.choose(for: request, in: fleet).map { fleet.id(of: $0.replica) } }
        }
    }

    // MARK: Routing cost

    mutating func calibrateClock() {
        let clock = ContinuousClock()
        var total = Duration.zero
        let rounds = 1_000
        for _ in 0..<rounds {
            let start = clock.now
            total += clock.now - start
        }
        clockOverhead = total / rounds
    }

    // MARK: Result

    func result(name: String, oracle: Oracle) -> StrategyResult {
        func percentiles(_ histogram: Histogram<UInt64>) -> StrategyResult.Percentiles {
            guard histogram.totalCount > 0 else { return .init(p50: 0, p90: 0, p99: 0) }
            return .init(
                p50: Double(histogram.valueAtPercentile(50)) / 1e6,
                p90: Double(histogram.valueAtPercentile(90)) / 1e6,
                p99: Double(histogram.valueAtPercentile(99)) / 1e6
            )
        }
        let decisions = max(1, reasons.values.reduce(0, +))
        let hitRate = promptTokens > 0 ? Double(hitTokens) / Double(promptTokens) : 0
        let span = lastCompletion - (input.arrivals.first ?? 0)
        var cost: Double?
        if parameters.measureRoutingCost, routeCalls > 0 {
            let perCall = (routingTime - clockOverhead * routeCalls) / routeCalls
            let parts = perCall.components
            cost = max(0, Double(parts.seconds) * 1e9 + Double(parts.attoseconds) / 1e9)
        }
        return StrategyResult(
            strategy: name,
            arrived: arrived,
            completed: completed,
            unrouted: unrouted,
            promptTokens: promptTokens,
            hitTokens: hitTokens,
            inPrefillTokens: inPrefillTokens,
            outputTokens: outputTokens,
            hitRate: hitRate,
            hitRateOverOracle: oracle.hitRate > 0 ? hitRate / oracle.hitRate : nil,
            ttft: percentiles(ttft),
            endToEnd: percentiles(endToEnd),
            throughputTokensPerSecond: span > 0 ? Double(promptTokens + outputTokens) / span : 0,
            imbalanceTimeAveraged: load.imbalance,
            peakOutstanding: load.peak,
            reasons: Dictionary(uniqueKeysWithValues: reasons.map { ($0.key.name, $0.value) }),
            spillRate: Double(reasons[.spill] ?? 0) / Double(decisions),
            fallbackRate: Double(reasons[.fallback] ?? 0) / Double(decisions),
            churn: churn,
            routingNanosecondsPerCall: cost
        )
    }
}
