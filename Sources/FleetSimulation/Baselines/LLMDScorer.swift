@_spi(Internals) public import PrefixRouter

/// The llm-d / Gateway API Inference Extension scheduler with its approximate prefix index and its default
/// profile, re-implemented from its code (`llm-d/llm-d-router`: `pkg/epp/config/loader/defaults.go`, the
/// `queuedepth`, `kvcacheutilization` and `approximateprefix` scorers, the `maxscore` picker):
///
/// - **Prefix score** = matched ÷ total blocks of the request, where each pod's match comes from a per-pod
///   LRU of block hashes (sized to the pod's cache, llm-d's default 31,250 blocks when unknown) with llm-d's
///   rule: walk the request's blocks and stop at the first block *no* pod holds
///   (``PrefixIndex/matches(of:_:)-(UnsafeBufferPointer<BlockHash>,_)``). Blocks are added in prompt order
///   (``PrefixIndex/insertInPromptOrder(_:for:)``), as llm-d's indexer does: LRU pressure evicts a prompt's
///   head first.
/// - **Queue score** = `(max − q) ÷ (max − min)` over the eligible pods, 1 for every pod when all are equal,
///   where q is the engine's waiting-queue size (vLLM `num_requests_waiting`) from the last metrics scrape
///   (``PrefixRouter/RoutingFeedback/engineMetrics(_:replica:)``; a pod not yet scraped counts as 0).
/// - **KV-cache-utilization score** = `1 − usage` (vLLM `kv_cache_usage_perc`), not normalised.
/// - Pick the maximum of `3 · prefix + 2 · queue + 2 · kv` (the default profile's weights); ties broken uniformly
///   at random (seeded).
/// - Record the chosen request's blocks in the chosen pod's LRU (llm-d's `PreRequest` hook).
///
/// In an unsaturated fleet the waiting queues are about 0 everywhere, so the counterweight to the prefix score
/// is `2 × (1 − KV usage)`: llm-d is stickier than a stand-in that normalises router in-flight counts
/// (llm-d-router #355). ``LoadSignals/routerCounts`` keeps that older stand-in (queue = the router's own
/// in-flight count, no KV scorer) for comparison.
///
/// Differences from the original: llm-d hashes blocks of at least 64 tokens (clamped up from 16); here the
/// blocks are the request's own.
///
/// - Complexity: O(n + R · s + k) per route: n eligible pods, R pods in the index, s blocks walked, k blocks
///   recorded.
public struct LLMDScorer: RoutingStrategy {
    /// The scorers' weights, with llm-d's defaults.
    public struct Weights: Hashable, Sendable {
        /// Weight of the prefix score. Default 3.
        public var prefix: Double
        /// Weight of the queue score. Default 2.
        public var queue: Double
        /// Weight of the KV-cache-utilization score. Default 2 (unused with ``LoadSignals/routerCounts``).
        public var kvCache: Double

        /// Creates weights; the defaults are llm-d's.
        public init(prefix: Double = 3, queue: Double = 2, kvCache: Double = 2) {
            self.prefix = prefix
            self.queue = queue
            self.kvCache = kvCache
        }
    }

    /// Where the load scores come from.
    public enum LoadSignals: Hashable, Sendable {
        /// llm-d's default: the engines' scraped waiting queues and KV usage.
        case engineMetrics
        /// The older stand-in: the router's own in-flight counts as the queue, no KV scorer.
        case routerCounts
    }

    /// Chosen by the weighted score.
    public static let scoredReason = RoutingReason("weighted_score")

    /// The scorers' weights.
    public let weights: Weights
    /// Where the load scores come from.
    public let signals: LoadSignals
    /// The per-pod approximate prefix index. Public for inspection and for warm starts in tests.
    public var index: PrefixIndex
    /// The last metrics scraped from each pod.
    public private(set) var metrics: [ReplicaID: EngineMetrics] = [:]
    private var random: RandomSource
    /// Matched blocks by `Fleet.Index.rawValue`, reused between calls (no allocation once grown).
    private var matchedBySlot: [Int] = []

    /// Creates the strategy.
    ///
    /// - Parameters:
    ///   - capacityPerPod: blocks per pod LRU (llm-d: from the pod's cache size, else 31,250).
    ///   - weights: the scorers' weights.
    ///   - signals: where the load scores come from.
    ///   - seed: the tie-break generator's seed, for reproducible runs.
    /// - Throws: ``PrefixRouterError`` when the capacity is out of range or a weight is negative or not
    ///   finite.
    public init(
        capacityPerPod: Int = PrefixIndex.defaultCapacityPerReplica,
        weights: Weights = Weights(),
        signals: LoadSignals = .engineMetrics,
        seed: UInt64? = nil
    ) throws(PrefixRouterError) {
        for (name, weight) in [("prefix", weights.prefix), ("queue", weights.queue), ("kvCache", weights.kvCache)]
        where !(weight.isFinite && weight >= 0) {
            throw PrefixRouterError(
                .invalidParameter,
                "weights.\(name): expected a finite number ≥ 0, found \(weight)"
            )
        }
        self.weights = weights
        self.signals = signals
        self.index = try PrefixIndex(capacityPerReplica: capacityPerPod)
        self.random = seed.map(RandomSource.init(seed:)) ?? RandomSource()
    }

    /// The queue length the queue scorer reads for `pod`.
    private func queue(of pod: Fleet.Index, in fleet: Fleet) -> Int {
        switch signals {
        case .engineMetrics: return metrics[fleet.id(of: pod)]?.waitingRequests ?? 0
        case .routerCounts: return fleet.outstanding(of: pod)
        }
    }

    /// Chooses a replica for `request` as described in the type's documentation.
    public mutating func choose(for request: RoutingRequest, in fleet: Fleet) -> RoutingChoice? {
        let count = fleet.eligibleCount
        guard count > 0 else { return nil }
        var minQueue = Int.max
        var maxQueue = Int.min
        var largestSlot = 0
        for position in 0..<count {
            let pod = fleet.eligible(at: position)
            let queue = queue(of: pod, in: fleet)
            minQueue = Swift.min(minQueue, queue)
            maxQueue = Swift.max(maxQueue, queue)
            largestSlot = Swift.max(largestSlot, pod.rawValue)
        }
        // Prefix matches, llm-d's rule, gathered by fleet slot.
        var matched: [Int] = []
        swap(&matched, &matchedBySlot)
        if matched.count <= largestSlot {
            matched.append(contentsOf: repeatElement(0, count: largestSlot + 1 - matched.count))
        }
        for position in 0..<count { matched[fleet.eligible(at: position).rawValue] = 0 }
        let total = request.blockHashes.count
        if total > 0 {
            index.matches(of: request.blockHashes) { id, blocks in
                if let pod = fleet.index(of: id), pod.rawValue < matched.count { matched[pod.rawValue] = blocks }
            }
        }
        // Weighted sum, max, random tie-break (reservoir sampling over equal scores).
        var best = fleet.eligible(at: 0)
        var bestScore = -Double.infinity
        var bestMatched = 0
        var ties: UInt64 = 0
        for position in 0..<count {
            let pod = fleet.eligible(at: position)
            let prefixScore = total > 0 ? Double(matched[pod.rawValue]) / Double(total) : 0
            let queue = queue(of: pod, in: fleet)
            let queueScore = maxQueue == minQueue ? 1 : Double(maxQueue - queue) / Double(maxQueue - minQueue)
            var score = weights.prefix * prefixScore + weights.queue * queueScore
            if signals == .engineMetrics {
                score += weights.kvCache * (1 - (metrics[fleet.id(of: pod)]?.kvCacheUsage ?? 0))
            }
            if score > bestScore {
                (best, bestScore, bestMatched, ties) = (pod, score, matched[pod.rawValue], 1)
            } else if score == bestScore {
                ties += 1
                if random.next(upperBound: ties) == 0 { (best, bestMatched) = (pod, matched[pod.rawValue]) }
            }
        }
        swap(&matched, &matchedBySlot)
        index.insertInPromptOrder(request.blockHashes, for: fleet.id(of: best))
        let cached = Swift.min(bestMatched * request.blockSize, request.tokenCount)
        return RoutingChoice(best, reason: LLMDScorer.scoredReason, cachedTokens: cached)
    }

    /// Keeps the last metrics of each pod.
    public mutating func observe(_ feedback: RoutingFeedback, in fleet: Fleet) {
        if case .engineMetrics(let sample, let replica) = feedback { metrics[replica] = sample }
    }

    /// Drops the LRUs and metrics of pods that left the fleet.
    public mutating func fleetDidChange(_ fleet: Fleet) {
        index.removeReplicas { fleet.index(of: $0) == nil }
        metrics = metrics.filter { fleet.index(of: $0.key) != nil }
    }
}
