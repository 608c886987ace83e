/// Chooses the replica with the least estimated time to first token, counting load in prefill work rather than
/// in requests, with a charge for scattering a conversation.
///
/// For each candidate replica `r` the estimate is
///
/// ```
/// cost(r) = (pending(r) + (1 + λ) · uncached(r)) ÷ (rate · weight(r)) + δ · outstanding(r) ÷ weight(r)
/// ```
///
/// where `pending(r)` is ``Fleet/pendingPrefillTokens(of:)`` (the uncached tokens of the requests this router
/// sent there that have not reported a first token: the replica's prefill backlog, as far as this router
/// knows), `outstanding(r)` its outstanding requests (the decode batch slows every engine step, prefill
/// chunks included; δ is ``decodeSecondsPerRequest``, off by default), `uncached(r)` the request's tokens that `r` probably does not hold according to an approximate
/// ``PrefixIndex`` (like ``CacheAware``'s, fed by this router's own decisions and by
/// ``RoutingFeedback/placement(blockHashes:replica:)`` from other gateways), and `rate` ``prefillTokensPerSecond``
/// per unit of weight. With λ = 0 this is the queueing-plus-prefill time of Mooncake's Conductor; λ > 0 charges
/// prefilling a prompt somewhere its prefix is not cached, because that copy evicts other prefixes and the
/// conversation's next turn finds its history split (Dynamo's overlap weight and Preble's eviction cost play
/// the same role). Ties are broken uniformly at random; with a ``temperature`` the choice is a softmax over the
/// costs normalised to 0...1 (Dynamo's router), which keeps several gateways with stale views from herding
/// onto the same replica.
///
/// Why work and not requests: prompts vary by two orders of magnitude (891 to 126k tokens on the Mooncake
/// conversation trace), so a replica with two long prompts queued is far busier than one with five short ones.
/// The router knows each request's size and its own estimate of the uncached part (the lease's
/// ``LeaseCost``), and the gateway reports the end of prefill (``Lease/reportFirstToken()``), so the backlog
/// is exact for one gateway and needs no engine metrics.
///
/// ### Several gateways
/// A gateway's own backlog counts only its own requests. When engine metrics are fed
/// (``RoutingFeedback/engineMetrics(_:replica:)``, ``usesEngineMetrics``), the backlog of a replica is at least
/// its engine's waiting requests times the mean uncached tokens of this router's requests: every gateway then
/// sees the others' queues within a scrape interval.
///
/// ### Candidates
/// - ``Candidates/all`` (one gateway): every eligible replica.
/// - ``Candidates/twoOnRing(keyDepthTokens:)`` (several gateways): two replicas chosen by hashing the
///   request's prefix key, as ``PrefixAffinity`` does (the key's ring owner, and the owner of a second hash of
///   the key, distinct from the first), so that every gateway sends a key to the same two replicas with no
///   coordination and both keep it warm; the estimate then picks the one with the lower cost. Requests shorter
///   than one block, or without blocks, go to every eligible replica.
/// - ``Candidates/ringPreferred(keyDepthTokens:)``: every eligible replica, the same two credited with the key's
///   prefix even when this router's index does not know it: affinity without shared state that spills in work.
///
/// A safety net caps requests per replica at the bounded-load capacity for ``loadFactor`` (like
/// ``CacheAware``): a hot prefix costs nothing to prefill again where it is cached, so without the cap it would
/// pile every request on one replica, whose decode batch (not modelled by the estimate unless δ > 0) would then
/// grow without bound. A cap that binds sends the request to the least loaded replica whatever it holds, so with
/// δ > 0 keep it loose (c = 5 in the bench's `recommended` line: c = 4 bound on hot prefixes and cost hits and
/// tail on the built-in workload; RESULTS.md).
///
/// Size the index like the engines' caches (in blocks). An index that forgets before the engine does routes
/// away from prefixes still cached; one that remembers much longer charges stale entries as cached, so the
/// router under-estimates the work it sends and queues form (in the bench, an index of 3× the cache cost 4
/// points of hit rate and 50% of TTFT p99 on the Mooncake synthetic trace). The index still ages a prefix from
/// the moment it is routed while an engine ages it from the end of the request (its blocks are pinned while it
/// runs), so a slightly larger index (1.1×) wins conversation hits at some cost in the tail (RESULTS.md).
///
/// - Complexity: ``Candidates/all``: O(n · log k) index lookups for n eligible replicas and a request of k
///   blocks, plus O(k) to record the blocks; ``Candidates/twoOnRing(keyDepthTokens:)``: O(log k + k) plus two
///   ring lookups (O(1) expected). Allocation-free once the index is warm (the softmax uses stack scratch
///   space).
public struct EstimatedTTFT<Fallback: RoutingStrategy>: RoutingStrategy {
    /// Which replicas a request may go to.
    public enum Candidates: Hashable, Sendable {
        /// Every eligible replica (one gateway).
        case all
        /// Two replicas chosen by hashing the prefix key at `keyDepthTokens` (several gateways).
        case twoOnRing(keyDepthTokens: Int)
        /// Every eligible replica, the key's two ring replicas credited with the key's prefix (several
        /// gateways): affinity without shared state, spilling in work when both are busy.
        case ringPreferred(keyDepthTokens: Int)
    }

    /// The chosen replica probably holds at least one leading block of the request.
    public static var cacheMatchReason: RoutingReason { RoutingReason("cache_match") }
    /// No candidate probably holds the request's first block: chosen on backlog alone.
    public static var cacheMissReason: RoutingReason { RoutingReason("cache_miss") }

    /// The approximate per-replica prefix index.
    public private(set) var index: PrefixIndex
    /// The charge λ for tokens prefilled where they are not cached, ≥ 0. Default 8.
    public let scatterCharge: Double
    /// Prefill throughput per unit of replica weight, tokens per second: the unit of the estimate. Default 10,000.
    public let prefillTokensPerSecond: Double
    /// The softmax temperature over normalised costs, or nil to take the minimum.
    public let temperature: Double?
    /// Which replicas a request may go to.
    public let candidates: Candidates
    /// The bounded-load factor of the safety net, or nil for none. Default 4.
    public let loadFactor: LoadFactor?
    /// Places requests without blocks.
    public var fallback: Fallback
    /// Whether engine metrics (waiting requests) raise the backlog estimate (see ``observe(_:in:)``).
    public let usesEngineMetrics: Bool
    /// Seconds added to the estimate per request outstanding on the replica (÷ its weight): the decode
    /// batch's share of every engine step. Default 0 (off).
    public let decodeSecondsPerRequest: Double
    /// Whether `.cachedTokens` reports below the index's prediction trim the index (see ``observe(_:in:)``).
    public var correctsIndexFromCachedTokens: Bool { correction != nil }
    private var correction: IndexShortfallCorrection?
    private var random: RandomSource
    /// The last waiting-queue length each engine reported.
    private var waiting: [ReplicaID: Int] = [:]
    /// A moving average of the uncached tokens of the requests this router placed.
    private var meanUncachedTokens = 0.0

    /// Creates the strategy.
    ///
    /// - Parameters:
    ///   - capacityPerReplica: blocks recorded per replica; the engine's KV capacity in blocks.
    ///   - scatterCharge: λ, in 0...1,000,000.
    ///   - prefillTokensPerSecond: a replica's prefill rate per unit of weight, > 0 and finite.
    ///   - temperature: nil for the minimum, or a softmax temperature in 0.001...1,000.
    ///   - candidates: every eligible replica, or two hash-chosen ones.
    ///   - loadFactor: the safety-net load factor (1.001...100), or nil to disable the cap.
    ///   - usesEngineMetrics: whether engines' waiting queues raise the backlog estimate.
    ///   - decodeSecondsPerRequest: seconds charged per request outstanding on a replica, in 0...1,000.
    ///   - correctsIndexFromCachedTokens: when an engine reports fewer cached tokens than the index predicted
    ///     for the replica chosen, forget that many blocks' worth of the replica's least recently used entries.
    ///   - fallback: places requests without blocks.
    ///   - seed: seeds the tie-break and the softmax for reproducible runs.
    /// - Throws: ``PrefixRouterError`` (``PrefixRouterError/Code/invalidParameter`` or
    ///   ``PrefixRouterError/Code/invalidLoadFactor``) naming the parameter out of range.
    public init(
        capacityPerReplica: Int = PrefixIndex.defaultCapacityPerReplica,
        scatterCharge: Double = 8,
        prefillTokensPerSecond: Double = 10_000,
        temperature: Double? = nil,
        candidates: Candidates = .all,
        loadFactor: Double? = 4,
        usesEngineMetrics: Bool = true,
        decodeSecondsPerRequest: Double = 0,
        correctsIndexFromCachedTokens: Bool = false,
        fallback: Fallback,
        seed: UInt64? = nil
    ) throws(PrefixRouterError) {
        guard scatterCharge.isFinite, (0...1_000_000).contains(scatterCharge) else {
            throw PrefixRouterError(
                .invalidParameter,
                "scatterCharge: expected a finite number in 0...1000000, found \(scatterCharge)"
            )
        }
        guard prefillTokensPerSecond.isFinite, prefillTokensPerSecond > 0 else {
            throw PrefixRouterError(
                .invalidParameter,
                "prefillTokensPerSecond: expected a finite number > 0, found \(prefillTokensPerSecond)"
            )
        }
        if let temperature, !(temperature.isFinite && (0.001...1_000).contains(temperature)) {
            throw PrefixRouterError(
                .invalidParameter,
                "temperature: expected nil or a finite number in 0.001...1000, found \(temperature)"
            )
        }
        guard decodeSecondsPerRequest.isFinite, (0...1_000).contains(decodeSecondsPerRequest) else {
            throw PrefixRouterError(
                .invalidParameter,
                "decodeSecondsPerRequest: expected a finite number in 0...1000, found \(decodeSecondsPerRequest)"
            )
        }
        if case .twoOnRing(let depth) = candidates, depth < 1 {
            throw PrefixRouterError(.invalidParameter, "keyDepthTokens: expected at least 1, found \(depth)")
        }
        if case .ringPreferred(let depth) = candidates, depth < 1 {
            throw PrefixRouterError(.invalidParameter, "keyDepthTokens: expected at least 1, found \(depth)")
        }
        self.loadFactor = try loadFactor.map { (value: Double) throws(PrefixRouterError) in try LoadFactor(value) }
        self.index = try PrefixIndex(capacityPerReplica: capacityPerReplica)
        self.scatterCharge = scatterCharge
        self.prefillTokensPerSecond = prefillTokensPerSecond
        self.temperature = temperature
        self.candidates = candidates
        self.usesEngineMetrics = usesEngineMetrics
        self.decodeSecondsPerRequest = decodeSecondsPerRequest
        self.correction = correctsIndexFromCachedTokens ? IndexShortfallCorrection() : nil
        self.fallback = fallback
        self.random = seed.map(RandomSource.init(seed:)) ?? RandomSource()
    }

    /// The estimated time to first token of a request on `replica` whose uncached part there is
    /// `uncachedTokens`, in seconds: `(pending + (1 + λ) · uncached) ÷ (rate · weight) + δ · outstanding ÷ weight`.
    /// O(1).
    public func estimatedSeconds(uncachedTokens: Int, on replica: Fleet.Index, in fleet: Fleet) -> Double {
        var backlog = Double(fleet.pendingPrefillTokens(of: replica))
        if usesEngineMetrics, let queued = waiting[fleet.id(of: replica)] {
            backlog = Swift.max(backlog, Double(queued) * meanUncachedTokens)
        }
        let work = backlog + (1 + scatterCharge) * Double(uncachedTokens)
        let weight = Double(fleet.weight(of: replica))
        return work / (prefillTokensPerSecond * weight)
            + decodeSecondsPerRequest * Double(fleet.outstanding(of: replica)) / weight
    }

    /// Chooses a replica for `request` as described in the type's documentation.
    public mutating func choose(for request: RoutingRequest, in fleet: Fleet) -> RoutingChoice? {
        guard !request.blockHashes.isEmpty else {
            return fallback.choose(for: request, in: fleet).map { RoutingChoice($0.replica, reason: .fallback) }
        }
        var chosen: (replica: Fleet.Index, matched: Int)?
        if case .twoOnRing(let depth) = candidates, let pair = ringPair(of: request, keyDepthTokens: depth, in: fleet) {
            chosen = request.blockHashes.withUnsafeBufferPointer { hashes in
                pick(among: pair.second == nil ? 1 : 2, request: request, hashes: hashes, fleet: fleet) {
                    $0 == 0 ? pair.first : pair.second ?? pair.first
                }
            }
        } else if case .ringPreferred(let depth) = candidates,
            let pair = ringPair(of: request, keyDepthTokens: depth, in: fleet)
        {
            let keyBlocks = Swift.min(request.blockHashes.count, Swift.max(1, depth / Swift.max(1, request.blockSize)))
            chosen = request.blockHashes.withUnsafeBufferPointer { hashes in
                pick(
                    among: fleet.eligibleCount,
                    request: request,
                    hashes: hashes,
                    fleet: fleet,
                    credit: { $0 == pair.first || $0 == pair.second ? keyBlocks : 0 }
                ) { fleet.eligible(at: $0) }
            }
        } else {
            chosen = request.blockHashes.withUnsafeBufferPointer { hashes in
                pick(among: fleet.eligibleCount, request: request, hashes: hashes, fleet: fleet) {
                    fleet.eligible(at: $0)
                }
            }
        }
        if chosen == nil {
            // Every candidate is at the safety cap: the least loaded replica (admission is the caller's concern).
            guard let replica = fleet.leastLoaded(using: &random) else { return nil }
            index.insert(request.blockHashes, for: fleet.id(of: replica))
            let matched = request.blockHashes.withUnsafeBufferPointer {
                index.prefixClosedMatch(of: $0, for: fleet.id(of: replica))
            }
            return RoutingChoice(replica, reason: .spill, cachedTokens: cachedTokens(matched, request))
        }
        guard let (replica, matched) = chosen else { return nil }
        correction?.predict(request.blockHashes, matchedBlocks: matched, replica: fleet.id(of: replica))
        index.insert(request.blockHashes, for: fleet.id(of: replica))
        let uncached = Double(request.tokenCount - cachedTokens(matched, request))
        meanUncachedTokens += (uncached - meanUncachedTokens) * (1.0 / 64)
        return RoutingChoice(
            replica,
            reason: matched > 0 ? Self.cacheMatchReason : Self.cacheMissReason,
            cachedTokens: cachedTokens(matched, request)
        )
    }

    /// The two hash-chosen candidates (one when a single replica is eligible), or nil when the request has no key.
    private func ringPair(
        of request: RoutingRequest,
        keyDepthTokens: Int,
        in fleet: Fleet
    ) -> (first: Fleet.Index, second: Fleet.Index?)? {
        let blocks = request.blockHashes.count
        let depth = Swift.min(blocks, Swift.max(1, keyDepthTokens / Swift.max(1, request.blockSize)))
        let key = request.blockHashes[depth - 1].rawValue
        let firstPosition = HashSchema.ringPosition(forKey: key)
        guard let first = fleet.ringOwner(of: firstPosition) else { return nil }
        let secondPosition = HashSchema.ringPosition(forKey: firstPosition)
        return (first, fleet.firstOnRing(from: secondPosition, where: { $0 != first }))
    }

    private func cachedTokens(_ matched: Int, _ request: RoutingRequest) -> Int {
        let (tokens, overflow) = matched.multipliedReportingOverflow(by: request.blockSize)
        return overflow ? request.tokenCount : Swift.min(tokens, request.tokenCount)
    }

    private func isCandidate(_ replica: Fleet.Index, in fleet: Fleet) -> Bool {
        guard let loadFactor else { return true }
        return fleet.outstanding(of: replica) < fleet.capacity(of: replica, loadFactor: loadFactor)
    }

    /// The candidate with the least estimate (or a softmax draw), among `count` candidates given by
    /// `candidate(i)`; nil when every one is at the safety cap.
    private mutating func pick(
        among count: Int,
        request: RoutingRequest,
        hashes: UnsafeBufferPointer<BlockHash>,
        fleet: Fleet,
        credit: (Fleet.Index) -> Int = { _ in 0 },
        candidate: (Int) -> Fleet.Index
    ) -> (replica: Fleet.Index, matched: Int)? {
        guard count > 0 else { return nil }
        return withUnsafeTemporaryAllocation(of: (cost: Double, matched: Int).self, capacity: count) { scratch in
            var minimum = Double.infinity
            var maximum = -Double.infinity
            var best = -1
            var ties: UInt64 = 0
            for position in 0..<count {
                let replica = candidate(position)
                guard isCandidate(replica, in: fleet) else {
                    scratch[position] = (.infinity, 0)
                    continue
                }
                let matched = Swift.max(
                    index.prefixClosedMatch(of: hashes, for: fleet.id(of: replica)),
                    credit(replica)
                )
                let uncached = request.tokenCount - cachedTokens(matched, request)
                let cost = estimatedSeconds(uncachedTokens: uncached, on: replica, in: fleet)
                scratch[position] = (cost, matched)
                maximum = Swift.max(maximum, cost)
                if cost < minimum {
                    (minimum, best, ties) = (cost, position, 1)
                } else if cost == minimum {
                    ties &+= 1
                    if random.next(upperBound: ties) == 0 { best = position }
                }
            }
            guard best >= 0 else { return nil }
            if let temperature, maximum > minimum {
                // Softmax over costs normalised to 0...1: weight exp(−(cost − min) ÷ ((max − min) · T)).
                let scale = (maximum - minimum) * temperature
                var total = 0.0
                for position in 0..<count where scratch[position].cost.isFinite {
                    total += ((minimum - scratch[position].cost) / scale).exp
                }
                var draw = Double(random.next() >> 11) / Double(1 << 53) * total
                for position in 0..<count where scratch[position].cost.isFinite {
                    draw -= ((minimum - scratch[position].cost) / scale).exp
                    if draw < 0 { return (candidate(position), scratch[position].matched) }
                }
            }
            return (candidate(best), scratch[best].matched)
        }
    }

    /// Drops state about replicas that left and passes the change on to the fallback.
    public mutating func fleetDidChange(_ fleet: Fleet) {
        index.removeReplicas { fleet.index(of: $0) == nil }
        waiting = waiting.filter { fleet.index(of: $0.key) != nil }
        fallback.fleetDidChange(fleet)
    }

    /// Records what other routers placed, and what engines reported cached, in the index (for members only),
    /// as ``CacheAware`` does, and keeps each engine's last waiting-queue length; passes everything on to the
    /// fallback. With ``correctsIndexFromCachedTokens``, a report of fewer cached tokens than the index
    /// predicted for a request this router placed first removes the shortfall (in blocks) of the replica's
    /// least recently used entries.
    ///
    /// - Complexity: O(k) for k blocks, plus O(shortfall) for a correction.
    public mutating func observe(_ feedback: RoutingFeedback, in fleet: Fleet) {
        if case .engineMetrics(let metrics, let replica) = feedback, fleet.index(of: replica) != nil {
            waiting[replica] = metrics.waitingRequests
        }
        if case .cachedTokens(let tokens, let blocks, let blockSize, let replica) = feedback,
            fleet.index(of: replica) != nil
        {
            correction?.correct(&index, hashes: blocks, cachedTokens: tokens, blockSize: blockSize, replica: replica)
        }
        index.record(feedback, in: fleet)
        fallback.observe(feedback, in: fleet)
    }
}

extension Double {
    /// e^self, without Foundation.
    fileprivate var exp: Double {
        // exp(x) = 2^(x · log2 e); split into integer and fractional parts, the latter by a short series.
        guard self > -700 else { return 0 }
        let y = self * 1.4426950408889634
        let whole = y.rounded(.down)
        let fraction = (y - whole) * 0.6931471805599453
        var term = 1.0
        var sum = 1.0
        for n in 1...20 {
            term *= fraction / Double(n)
            sum += term
        }
        return Double(sign: .plus, exponent: Int(whole), significand: sum)
    }
}

extension EstimatedTTFT {
    /// The library's recommended configuration behind a single gateway (the bench's `recommended` line,
    /// measured in RESULTS.md, issue 10): every eligible replica as candidate, λ = 24, a decode charge of
    /// δ = 4 ms per outstanding request, the safety net at c = 5, the gateway's own backlog only (no engine
    /// metrics: behind one gateway it is exact, and a scraped waiting count only adds staleness), and the
    /// index sized like the engines' caches.
    ///
    /// The bench's `recommended` line also reports each completed request's blocks again when its time to
    /// first token was at most 30 s (``RoutingFeedback/placement(blockHashes:replica:)``, placement at
    /// release): that is the caller's part, not the strategy's (the gateway's `estimated-ttft-single` does it).
    ///
    /// - Parameters:
    ///   - capacityPerReplica: the engines' KV capacity in blocks (the index's size per replica).
    ///   - fallback: places requests without blocks.
    ///   - seed: seeds the tie-break for reproducible runs.
    /// - Throws: ``PrefixRouterError`` naming the parameter out of range.
    /// - Complexity: O(1) to create; each route as ``Candidates/all``.
    public static func recommendedSingleGateway(
        capacityPerReplica: Int = PrefixIndex.defaultCapacityPerReplica,
        fallback: Fallback,
        seed: UInt64? = nil
    ) throws(PrefixRouterError) -> EstimatedTTFT {
        try EstimatedTTFT(
            capacityPerReplica: capacityPerReplica,
            scatterCharge: 24,
            candidates: .all,
            loadFactor: 5,
            usesEngineMetrics: false,
            decodeSecondsPerRequest: 0.004,
            fallback: fallback,
            seed: seed
        )
    }

    /// The library's recommended configuration for several gateways that share nothing (the bench's
    /// `recommended-multi` line, measured in RESULTS.md): the two hash-chosen replicas of the prefix key at
    /// `keyDepthTokens` as candidates, λ = 8, engines' waiting queues raising the backlog when they are fed,
    /// the safety net at c = 4, and the index sized like the engines' caches.
    ///
    /// - Parameters:
    ///   - capacityPerReplica: the engines' KV capacity in blocks (the index's size per replica).
    ///   - keyDepthTokens: the prefix key's depth in tokens (default 2,048, as ``PrefixAffinity``).
    ///   - fallback: places requests without blocks.
    ///   - seed: seeds the tie-break for reproducible runs.
    /// - Throws: ``PrefixRouterError`` naming the parameter out of range.
    /// - Complexity: O(1) to create; each route as ``Candidates/twoOnRing(keyDepthTokens:)``.
    public static func recommendedMultiGateway(
        capacityPerReplica: Int = PrefixIndex.defaultCapacityPerReplica,
        keyDepthTokens: Int = PrefixAffinity<Fallback>.defaultKeyDepthTokens,
        fallback: Fallback,
        seed: UInt64? = nil
    ) throws(PrefixRouterError) -> EstimatedTTFT {
        try EstimatedTTFT(
            capacityPerReplica: capacityPerReplica,
            scatterCharge: 8,
            candidates: .twoOnRing(keyDepthTokens: keyDepthTokens),
            loadFactor: 4,
            usesEngineMetrics: true,
            fallback: fallback,
            seed: seed
        )
    }
}
