import Histogram
@_spi(Simulation) public import PrefixRouter

/// Replays a trace through a simulated fleet routed by one strategy: a discrete-event simulation,
/// deterministic for a given input, parameters and strategy seed.
///
/// Each arrival is routed through a ``PrefixRouter/FleetRouter`` (simulated time passed as the `now` of
/// ``PrefixRouter/Router/route(_:at:)``), queued FIFO at the chosen replica, admitted when a running slot
/// and KV memory are free, prefilled (uncached tokens only) in chunks of a per-step token budget, then decoded
/// step by step. The lease reports its first token when the request's last chunk is prefilled
/// (``PrefixRouter/Lease/reportFirstToken()``), so the router's pending prefill work is what a gateway would
/// know, and is released at completion. Every engine's metrics (waiting, running, KV usage) are scraped every
/// ``SimulationParameters/metricsIntervalSeconds`` and fed to every router. With
/// ``SimulationParameters/gateways`` > 1, each gateway is its own router over the same replicas, knowing only
/// its own leases; with ``SimulationParameters/syncDelaySeconds`` each decision reaches the other gateways'
/// strategies that much later as a placement. See ``SimulationParameters`` for the service model.
///
/// Decode runs between events are advanced in one jump (the batch, hence the step time, is constant until
/// something finishes or arrives), so the cost is O(requests × (log replicas + blocks per request)) plus
/// O(replicas × gateways) per scrape, not O(decode steps).
public enum FleetSimulator {
    /// Replica ids used by every run: `replica-0` … `replica-(n−1)`.
    public static func replicaIDs(count: Int) -> [ReplicaID] {
        (0..<count).map { ReplicaID(rawValue: "replica-\($0)") }
    }

    /// Runs `strategy` over `input`, with one copy of it per gateway.
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
        try run(
            gateways: Array(repeating: strategy, count: max(1, parameters.gateways)),
            name: name,
            input: input,
            parameters: parameters,
            oracle: oracle,
            configuration: configuration,
            progress: progress
        )
    }

    /// Runs one strategy value per gateway over `input` (`strategies.count` must equal
    /// ``SimulationParameters/gateways``).
    ///
    /// - Throws: ``SimulationError`` for invalid parameters.
    public static func run<Strategy: RoutingStrategy>(
        gateways strategies: [Strategy],
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
        guard strategies.count == parameters.gateways else {
            throw SimulationError("gateways: expected \(parameters.gateways) strategies, found \(strategies.count)")
        }
        var routers: [FleetRouter<Strategy>] = []
        for strategy in strategies {
            do {
                routers.append(
                    try FleetRouter(
                        replicaIDs: replicaIDs(count: parameters.replicas),
                        strategy: strategy,
                        configuration: configuration ?? parameters.fleetConfiguration
                    )
                )
            } catch {
                throw SimulationError("cannot build the router: \(error)")
            }
        }
        var run = SimulationRun(routers: routers, input: input, parameters: parameters)
        run.progress = progress
        run.simulate()
        return run.result(name: name, oracle: oracle)
    }
}

/// A decision on its way to the other gateways (``SimulationParameters/syncDelaySeconds``).
struct PendingPlacement {
    var time: Double
    var gateway: Int
    var request: Int32
    var replica: Int
}

/// The state of one simulation run.
struct SimulationRun<Strategy: RoutingStrategy> {
    let routers: [FleetRouter<Strategy>]
    let input: SimulationInput
    let parameters: SimulationParameters
    let replicaIDs: [ReplicaID]
    let indexOfID: [ReplicaID: Int]
    var progress: ((Double) -> Void)?

    var replicas: [ReplicaState]
    var events = MinHeap<ReplicaEvent>()
    var eventSequence: UInt64 = 0
    var load: LoadTracker
    /// Pending prefill tokens per replica (queued requests at their estimate, prefilling ones at what is left).
    var work: LoadTracker
    let baseInstant = ContinuousClock.now

    // Per request.
    var leases: [Lease?]
    var pinned: [[Int32]]
    var anonymousHeld: [Int]
    /// Uncached tokens left to prefill (set at admission).
    var remainingPrefill: [Int]
    /// Prompt tokens computed so far (cached at admission, then chunk by chunk).
    var computedTokens: [Int]
    /// The pending-work estimate counted while queued.
    var queuedEstimate: [Int]
    /// Completions per request (each must end at exactly 1: checked by the conservation tests).
    var completions: [UInt8]
    /// First tokens per request (each must end at exactly 1).
    var firstTokens: [UInt8]
    /// When each request's first token came, and when it completed (simulated seconds; -1 before).
    var firstTokenTimes: [Double]
    var completionTimes: [Double]

    // Gateways.
    var gatewayRandom: RandomSource
    /// The gateway that placed each request, and the tokens its engine found cached at admission.
    var requestGateway: [Int32]
    var cachedAtAdmission: [Int]
    /// The replica that prefilled each request (−1 before), and how many requests its last prefill step held.
    var servedBy: [Int32]
    var lastStepPrefills: [Int32]
    var placements: [PendingPlacement] = []
    var placementHead = 0
    var nextScrape: Double

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
        var parameters = parameters
        parameters.gateways = 1
        self.init(routers: [router], input: input, parameters: parameters)
    }

    init(routers: [FleetRouter<Strategy>], input: SimulationInput, parameters: SimulationParameters) {
        self.routers = routers
        self.input = input
        self.parameters = parameters
        self.replicaIDs = FleetSimulator.replicaIDs(count: parameters.replicas)
        self.indexOfID = Dictionary(uniqueKeysWithValues: replicaIDs.enumerated().map { ($1, $0) })
        let capacity = parameters.cacheCapacity(blockSize: input.blockSize)
        self.replicas = (0..<parameters.replicas).map { _ in ReplicaState(cacheCapacity: capacity) }
        let start = input.arrivals.first ?? 0
        self.load = LoadTracker(replicas: parameters.replicas, start: start)
        self.work = LoadTracker(replicas: parameters.replicas, start: start)
        self.nextScrape = start
        let count = input.requests.count
        self.leases = Array(repeating: nil, count: count)
        self.pinned = Array(repeating: [], count: count)
        self.anonymousHeld = Array(repeating: 0, count: count)
        self.remainingPrefill = Array(repeating: 0, count: count)
        self.computedTokens = Array(repeating: 0, count: count)
        self.queuedEstimate = Array(repeating: 0, count: count)
        self.completions = Array(repeating: 0, count: count)
        self.firstTokens = Array(repeating: 0, count: count)
        self.firstTokenTimes = Array(repeating: -1, count: count)
        self.completionTimes = Array(repeating: -1, count: count)
        self.requestGateway = Array(repeating: 0, count: count)
        self.cachedAtAdmission = Array(repeating: 0, count: count)
        self.servedBy = Array(repeating: -1, count: count)
        self.lastStepPrefills = Array(repeating: 0, count: count)
        self.gatewayRandom = RandomSource(seed: parameters.seed ^ 0x6761_7465_7761_7973)  // "gateways"
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
            let placementTime = placementHead < placements.count ? placements[placementHead].time : Double.infinity
            if let top = events.min, top.time <= arrivalTime, top.time <= churnTime, top.time <= placementTime {
                _ = events.pop()
                scrapeIfDue(at: top.time)
                stepEnded(Int(top.replica), at: top.time)
            } else if churnTime <= arrivalTime, churnTime <= placementTime, churnTime.isFinite {
                let change = churnPlan.removeFirst()
                scrapeIfDue(at: change.time)
                changeMembership(remove: change.remove, at: change.time)
            } else if placementTime <= arrivalTime, placementTime.isFinite {
                deliver(placements[placementHead])
                placementHead += 1
                if placementHead > 4_096, placementHead * 2 > placements.count {
                    placements.removeFirst(placementHead)
                    placementHead = 0
                }
            } else if arrivalTime.isFinite {
                scrapeIfDue(at: arrivalTime)
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

    // MARK: Engine metrics and decision sharing

    /// Feeds every router the engines' metrics as they stood at the last scrape instant at or before `time`
    /// (nothing changes between events, so that is the state before the event at `time`).
    mutating func scrapeIfDue(at time: Double) {
        guard time >= nextScrape else { return }
        let interval = parameters.metricsIntervalSeconds
        nextScrape = ((time / interval).rounded(.down) + 1) * interval
        if nextScrape <= time { nextScrape = time + interval }
        for (replica, state) in replicas.enumerated() {
            let capacity = state.cache.capacity
            let metrics = EngineMetrics(
                waitingRequests: state.queue.count - state.queueHead,
                runningRequests: state.running,
                kvCacheUsage: capacity == Int.max ? 0 : Double(state.cache.pinnedBlocks) / Double(capacity)
            )
            for router in routers { router.observe(.engineMetrics(metrics, replica: replicaIDs[replica])) }
        }
    }

    /// Gives the other gateways' strategies a decision as a placement.
    func deliver(_ placement: PendingPlacement) {
        let blocks = input.routingRequests[Int(placement.request)].blockHashes
        guard !blocks.isEmpty else { return }
        let feedback = RoutingFeedback.placement(blockHashes: blocks, replica: replicaIDs[placement.replica])
        for (gateway, router) in routers.enumerated() where gateway != placement.gateway { router.observe(feedback) }
    }

    /// The gateway that receives `request`.
    mutating func gateway(for request: Int32) -> Int {
        let count = routers.count
        guard count > 1 else { return 0 }
        if parameters.gatewayAssignment == .perSession, let key = input.sessionKeys[Int(request)] {
            return Int(key % UInt64(count))
        }
        return gatewayRandom.next(below: count)
    }

    // MARK: Arrivals

    mutating func arrive(_ request: Int32, at time: Double) {
        arrived += 1
        let routing = input.routingRequests[Int(request)]
        let now = baseInstant.advanced(by: .seconds(time))
        let gateway = gateway(for: request)
        let router = routers[gateway]
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
        requestGateway[Int(request)] = Int32(gateway)
        reasons[decision.reason, default: 0] += 1
        load.change(replica, by: 1, at: time)
        if let delay = parameters.syncDelaySeconds, routers.count > 1 {
            placements.append(
                PendingPlacement(time: time + delay, gateway: gateway, request: request, replica: replica)
            )
        }
        if parameters.churn {
            if recentRequests.count == 1_000 { recentRequests.removeFirst() }
            recentRequests.append(request)
        }
        // The pending work it adds, as the replica's cache stands now (corrected at admission).
        let trace = input.requests[Int(request)]
        let lookup = replicas[replica].cache.lookup(trace.blockHashes, anonymous: 0, now: time)
        let estimate = max(1, trace.inputTokens - min(lookup.readyBlocks * input.blockSize, trace.inputTokens))
        queuedEstimate[Int(request)] = estimate
        work.change(replica, by: estimate, at: time)
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

    /// Starts the next step: prefill chunks (requests already prefilling first, then newly admitted ones in FIFO
    /// order, within the step's token budget less one token per decoding request), or a decode run, or idle.
    mutating func startNext(_ replica: Int, at time: Double) {
        let blockSize = input.blockSize
        var budget = max(1, parameters.prefillBatchTokens - replicas[replica].decoders.count)
        var chunks: [(request: Int32, tokens: Int)] = []
        for request in replicas[replica].prefilling where budget > 0 {
            let tokens = min(remainingPrefill[Int(request)], budget)
            budget -= tokens
            chunks.append((request, tokens))
        }
        while budget > 0, !replicas[replica].queueIsEmpty, replicas[replica].running < parameters.maxRunningRequests {
            let request = replicas[replica].queue[replicas[replica].queueHead]
            let trace = input.requests[Int(request)]
            let neededBlocks = (trace.inputTokens + blockSize - 1) / blockSize
            let anonymous = max(0, neededBlocks - trace.blockHashes.count)
            let lookup = replicas[replica].cache.lookup(trace.blockHashes, anonymous: anonymous, now: time)
            let hit = min(lookup.readyBlocks * blockSize, trace.inputTokens)
            let present = min(lookup.presentBlocks * blockSize, trace.inputTokens)
            // An oversized request is admitted alone rather than never (it caches what fits).
            if !replicas[replica].cache.fits(newPins: lookup.newPins), replicas[replica].running > 0 { break }
            let admitted = replicas[replica].cache.admit(trace.blockHashes, anonymous: anonymous, readyAt: .infinity)
            pinned[Int(request)] = admitted.entries
            anonymousHeld[Int(request)] = admitted.anonymous
            hitTokens += hit
            cachedAtAdmission[Int(request)] = hit
            inPrefillTokens += present - hit
            promptTokens += trace.inputTokens
            // An engine recomputes at least the last token of a fully cached prompt.
            let uncached = max(1, trace.inputTokens - hit)
            remainingPrefill[Int(request)] = uncached
            computedTokens[Int(request)] = trace.inputTokens - uncached
            work.change(replica, by: uncached - queuedEstimate[Int(request)], at: time)
            let tokens = min(uncached, budget)
            budget -= tokens
            chunks.append((request, tokens))
            replicas[replica].prefilling.append(request)
            replicas[replica].running += 1
            replicas[replica].queueHead += 1
        }
        if !chunks.isEmpty {
            let batch = chunks.reduce(0) { $0 + $1.tokens }
            let decodePart = replicas[replica].decoders.isEmpty ? 0 : decodeStepSeconds(replica)
            let end =
                time + decodePart + parameters.prefillOverheadSeconds
                + Double(batch) / parameters.prefillTokensPerSecond
            for (request, tokens) in chunks {
                let index = Int(request)
                computedTokens[index] += tokens
                // Blocks computed by the end of this chunk become hits for others then.
                let done = remainingPrefill[index] == tokens
                let ready = done ? pinned[index].count : min(pinned[index].count, computedTokens[index] / blockSize)
                replicas[replica].cache.setReady(pinned[index][..<ready], at: end)
            }
            replicas[replica].stepChunks = chunks
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
            let chunks = replicas[replica].stepChunks
            replicas[replica].stepChunks.removeAll(keepingCapacity: true)
            var finishedPrefill = false
            for (request, tokens) in chunks {
                let index = Int(request)
                remainingPrefill[index] -= tokens
                work.change(replica, by: -tokens, at: time)
                guard remainingPrefill[index] == 0 else { continue }
                finishedPrefill = true
                let trace = input.requests[index]
                record(&ttft, time - input.arrivals[index])
                firstTokens[index] &+= 1
                firstTokenTimes[index] = time
                servedBy[index] = Int32(replica)
                lastStepPrefills[index] = Int32(chunks.count)
                leases[index]?.reportFirstToken()
                if parameters.reportsCachedTokens {
                    routers[Int(requestGateway[index])].observe(
                        .cachedTokens(
                            cachedAtAdmission[index],
                            blockHashes: input.routingRequests[index].blockHashes,
                            blockSize: input.routingRequests[index].blockSize,
                            replica: replicaIDs[replica]
                        )
                    )
                }
                if trace.outputTokens <= 1 {
                    finish(request, on: replica, at: time)
                } else {
                    replicas[replica].decoders.push(
                        DecodeFinish(step: replicas[replica].steps + trace.outputTokens - 1, request: request)
                    )
                    replicas[replica].decodeContextTokens += trace.inputTokens
                }
            }
            if finishedPrefill {
                replicas[replica].prefilling.removeAll { remainingPrefill[Int($0)] == 0 }
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
        if let limit = parameters.placementAtReleaseMaxTTFT, firstTokenTimes[index] - input.arrivals[index] <= limit {
            routers[Int(requestGateway[index])].observe(
                .placement(blockHashes: input.routingRequests[index].blockHashes, replica: replicaIDs[replica])
            )
        }
        leases[index]?.release()
        leases[index] = nil
        load.change(replica, by: -1, at: time)
        completed += 1
        completions[index] &+= 1
        completionTimes[index] = time
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
            for router in routers {
                if remove { try router.remove(id) } else { try router.add(Replica(id: id)) }
            }
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

    /// Where a throw-away copy of the first gateway's strategy would send each probe now (no lease is taken).
    func probe(_ probes: [RoutingRequest]) -> [ReplicaID?] {
        routers[0].withStrategy { fleet, strategy in
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
            workImbalanceTimeAveraged: work.imbalance,
            gateways: routers.count,
            gatewayAssignment: routers.count > 1 ? parameters.gatewayAssignment : nil,
            peakOutstanding: load.peak,
            reasons: Dictionary(uniqueKeysWithValues: reasons.map { ($0.key.name, $0.value) }),
            spillRate: Double(reasons[.spill] ?? 0) / Double(decisions),
            fallbackRate: Double(reasons[.fallback] ?? 0) / Double(decisions),
            churn: churn,
            routingNanosecondsPerCall: cost,
            requests: parameters.recordsRequests ? requestRecords() : nil
        )
    }
}
