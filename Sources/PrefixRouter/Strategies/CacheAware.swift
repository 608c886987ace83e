/// Cache-aware routing over an approximate prefix index: each request goes to the replica with the best
/// weighted score of *how much of its prefix the replica probably holds* and *how lightly loaded it is*,
/// among the replicas below their bounded-load capacity.
///
/// The index (``PrefixIndex``) records the blocks of every request under the replica it was sent to, in a
/// per-replica LRU of bounded size, so it approximates each engine's prefix cache without any KV events from
/// the engines. The score is llm-d's (`prefixWeight × matched ÷ blocks + loadWeight × (max − load) ÷ (max −
/// min)`, defaults 3 and 2, load = outstanding ÷ weight, the load term 1 when all loads are equal), with
/// two additions learned from peers' users' reports. First, a safety net: a replica at the bounded-load cap
/// for ``loadFactor`` (default 2, looser than the ring's 1.25) is not a candidate. With weights 3 and 2 a
/// replica holding a whole prompt outscores an idle one however loaded it is, so without the cap one hot
/// prompt would pile onto one replica; the load term does the everyday balancing, and the cap only stops the
/// pile-up (a cap as tight as the ring's 1.25 splits hot prompts early and costs hit rate). Second, ties are
/// broken uniformly at random, never "the first replica". A request that matches nothing anywhere is scored
/// on load alone, so it goes to a least-loaded replica.
///
/// Compared with ``PrefixAffinity``: it finds shared prefixes at any depth (a conversation's second turn
/// matches its first even when the first was shorter than the key depth) and trades hits against load
/// continuously instead of spilling clockwise; but its state is per gateway — several gateways each learn
/// their own index and may disagree — and a route costs O(n log k + k) instead of O(1). Use it
/// behind one gateway (or gateways with client affinity); use ``PrefixAffinity`` when several gateways share
/// the traffic. The bench compares both on recorded traces.
///
/// Memory: ``PrefixIndex/memoryBound(capacityPerReplica:replicas:)``, 32–48 bytes per recorded block. Size
/// the index like the engines' caches so that it forgets roughly when they do.
///
/// - Complexity: O(n · log k) index lookups per route for n eligible replicas and a request of k blocks
///   (``PrefixIndex/prefixClosedMatch(of:for:)``), plus O(k) to record the request's blocks;
///   allocation-free once the index is warm.
public struct CacheAware<Fallback: RoutingStrategy>: RoutingStrategy {
    /// The chosen replica probably holds at least one leading block of the request.
    public static var cacheMatchReason: RoutingReason { RoutingReason("cache_match") }
    /// No candidate holds the request's first block: placed on load alone.
    public static var cacheMissReason: RoutingReason { RoutingReason("cache_miss") }

    /// The approximate per-replica prefix index.
    public private(set) var index: PrefixIndex
    /// Weight of the prefix term (matched ÷ total blocks, in 0...1). Default 3 (llm-d).
    public let prefixWeight: Double
    /// Weight of the load term (min–max normalised, in 0...1). Default 2 (llm-d).
    public let loadWeight: Double
    /// Places requests without blocks.
    public var fallback: Fallback
    /// The bounded-load factor of the safety net, or nil for none.
    public let loadFactor: LoadFactor?
    private var random: RandomSource

    /// Creates the strategy.
    ///
    /// - Parameters:
    ///   - capacityPerReplica: blocks recorded per replica; set it to the engine's KV capacity in blocks
    ///     (for example 26,000 blocks of 16 tokens for an 8B model on an 80 GB GPU).
    ///   - prefixWeight: weight of the prefix-match term, ≥ 0.
    ///   - loadWeight: weight of the load term, ≥ 0.
    ///   - loadFactor: the safety-net load factor (1.001...100, rounded to thousandths), or nil to disable the
    ///     cap.
    ///   - fallback: places requests without blocks.
    ///   - seed: seeds the tie-break for reproducible runs.
    /// - Throws: ``PrefixRouterError`` when a parameter is out of range.
    public init(
        capacityPerReplica: Int = PrefixIndex.defaultCapacityPerReplica,
        prefixWeight: Double = 3,
        loadWeight: Double = 2,
        loadFactor: Double? = 2,
        fallback: Fallback,
        seed: UInt64? = nil
    ) throws(PrefixRouterError) {
        self.loadFactor = try loadFactor.map { (value: Double) throws(PrefixRouterError) in try LoadFactor(value) }
        for (name, weight) in [("prefixWeight", prefixWeight), ("loadWeight", loadWeight)]
        where !(weight.isFinite && weight >= 0 && weight <= 1_000_000) {
            throw PrefixRouterError(
                .invalidParameter,
                "\(name): expected a finite number in 0...1000000, found \(weight)"
            )
        }
        self.index = try PrefixIndex(capacityPerReplica: capacityPerReplica)
        self.prefixWeight = prefixWeight
        self.loadWeight = loadWeight
        self.fallback = fallback
        self.random = seed.map(RandomSource.init(seed:)) ?? RandomSource()
    }

    /// Chooses a replica for `request` as described in the type's documentation.
    public mutating func choose(for request: RoutingRequest, in fleet: Fleet) -> RoutingChoice? {
        guard !request.blockHashes.isEmpty else {
            return fallback.choose(for: request, in: fleet).map { RoutingChoice($0.replica, reason: .fallback) }
        }
        // Load range over the candidates (replicas below their cap).
        var minimumLoad = Double.infinity
        var maximumLoad = -Double.infinity
        for position in 0..<fleet.eligibleCount {
            let candidate = fleet.eligible(at: position)
            guard isCandidate(candidate, in: fleet) else { continue }
            let load = Double(fleet.outstanding(of: candidate)) / Double(fleet.weight(of: candidate))
            minimumLoad = Swift.min(minimumLoad, load)
            maximumLoad = Swift.max(maximumLoad, load)
        }
        guard minimumLoad.isFinite else {
            // Every replica is at capacity: the least loaded (admission control is the caller's concern).
            guard let replica = fleet.leastLoaded(using: &random) else { return nil }
            index.insert(request.blockHashes, for: fleet.id(of: replica))
            return RoutingChoice(replica, reason: .spill)
        }
        var best: Fleet.Index?
        var bestScore = -Double.infinity
        var bestMatched = 0
        var ties: UInt64 = 0
        let total = Double(request.blockHashes.count)
        request.blockHashes.withUnsafeBufferPointer { hashes in
            for position in 0..<fleet.eligibleCount {
                let candidate = fleet.eligible(at: position)
                guard isCandidate(candidate, in: fleet) else { continue }
                let matched = index.prefixClosedMatch(of: hashes, for: fleet.id(of: candidate))
                let load = Double(fleet.outstanding(of: candidate)) / Double(fleet.weight(of: candidate))
                let loadScore = maximumLoad > minimumLoad ? (maximumLoad - load) / (maximumLoad - minimumLoad) : 1
                let score = prefixWeight * Double(matched) / total + loadWeight * loadScore
                if score > bestScore {
                    (best, bestScore, bestMatched, ties) = (candidate, score, matched, 1)
                } else if score == bestScore {
                    ties &+= 1
                    if random.next(upperBound: ties) == 0 { (best, bestMatched) = (candidate, matched) }
                }
            }
        }
        guard let best else { return nil }
        index.insert(request.blockHashes, for: fleet.id(of: best))
        let (cached, overflow) = bestMatched.multipliedReportingOverflow(by: request.blockSize)
        return RoutingChoice(
            best,
            reason: bestMatched > 0 ? Self.cacheMatchReason : Self.cacheMissReason,
            cachedTokens: overflow ? Int.max : cached
        )
    }

    private func isCandidate(_ replica: Fleet.Index, in fleet: Fleet) -> Bool {
        guard let loadFactor else { return true }
        return fleet.outstanding(of: replica) < fleet.capacity(of: replica, loadFactor: loadFactor)
    }

    /// Drops state about replicas that left and passes the change on to the fallback.
    public mutating func fleetDidChange(_ fleet: Fleet) {
        index.removeReplicas { fleet.index(of: $0) == nil }
        fallback.fleetDidChange(fleet)
    }

    /// Records what other routers placed, and what engines reported cached, in the index (for members only);
    /// passes everything on to the fallback.
    ///
    /// - ``RoutingFeedback/placement(blockHashes:replica:)``: the blocks are recorded under the replica, as if
    ///   this router had placed the request.
    /// - ``RoutingFeedback/cachedTokens(_:blockHashes:blockSize:replica:)``: the leading
    ///   `cachedTokens ÷ blockSize` blocks are recorded (refreshed) under the replica.
    ///
    /// - Complexity: O(k) for k blocks.
    public mutating func observe(_ feedback: RoutingFeedback, in fleet: Fleet) {
        index.record(feedback, in: fleet)
        fallback.observe(feedback, in: fleet)
    }
}
