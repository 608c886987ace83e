@_spi(Internals) public import PrefixRouter

/// The llm-d / Gateway API Inference Extension scheduler with its approximate prefix index, re-implemented
/// from its published scoring rule (llm-d `prefix-cache-scorer` in approximate mode plus the
/// `queue-scorer`, weighted sum, max-score picker):
///
/// - **Prefix score** = matched ÷ total blocks of the request, where each pod's match comes from a per-pod
///   LRU of block hashes (31,250 blocks by default, llm-d's size when the engine's cache size is unknown) with
///   llm-d's rule: walk the request's blocks and stop at the first block *no* pod holds
///   (``PrefixIndex/matches(of:_:)-(UnsafeBufferPointer<BlockHash>,_)``).
/// - **Queue score** = `(max − q) ÷ (max − min)` over the eligible pods, 1 for every pod when all are equal.
///   llm-d reads q (the waiting-queue length) from engine metrics; the router here only knows its own
///   in-flight count per pod (``Fleet/outstanding(of:)``), which stands in for it.
/// - **KV-cache-utilization score** (`1 − usage`, weight 2 in llm-d's default profile): **omitted**. It
///   needs the engine's KV usage, which a gateway without engine metrics does not have; the only stand-in
///   the router owns is its in-flight count, which the queue scorer already uses, so adding it would just
///   double the queue weight under another name. The default weights are therefore prefix 3, queue 2.
/// - Pick the maximum of `3 · prefix + 2 · queue`; ties broken uniformly at random (seeded).
/// - Record the chosen request's blocks in the chosen pod's LRU (llm-d's `PreRequest` hook).
///
/// Differences from the original: llm-d hashes blocks of at least 64 tokens (clamped up from 16); here the
/// blocks are the request's own. The index touches a request's blocks tail first so that each pod's set stays
/// prefix-closed (llm-d adds them in prompt order); see ``PrefixIndex``.
///
/// - Complexity: O(n + R · s) per route: n eligible pods, R pods in the index, s blocks walked.
public struct LLMDScorer: RoutingStrategy {
    /// The scorers' weights, with llm-d's defaults for the two that are modelled.
    public struct Weights: Hashable, Sendable {
        /// Weight of the prefix score. Default 3.
        public var prefix: Double
        /// Weight of the queue score. Default 2.
        public var queue: Double

        /// Creates weights; the defaults are llm-d's.
        public init(prefix: Double = 3, queue: Double = 2) {
            self.prefix = prefix
            self.queue = queue
        }
    }

    /// Chosen by the weighted score.
    public static let scoredReason = RoutingReason("weighted_score")

    /// The scorers' weights.
    public let weights: Weights
    /// The per-pod approximate prefix index. Public for inspection and for warm starts in tests.
    public var index: PrefixIndex
    private var random: RandomSource
    /// Matched blocks by `Fleet.Index.rawValue`, reused between calls (no allocation once grown).
    private var matchedBySlot: [Int] = []

    /// Creates the strategy.
    ///
    /// - Parameters:
    ///   - capacityPerPod: blocks per pod LRU (llm-d: from the pod's cache size, else 31,250).
    ///   - weights: the scorers' weights.
    ///   - seed: the tie-break generator's seed, for reproducible runs.
    /// - Throws: ``PrefixRouterError`` when the capacity is out of range or a weight is negative or not
    ///   finite.
    public init(
        capacityPerPod: Int = PrefixIndex.defaultCapacityPerReplica,
        weights: Weights = Weights(),
        seed: UInt64? = nil
    ) throws(PrefixRouterError) {
        for (name, weight) in [("prefix", weights.prefix), ("queue", weights.queue)]
        where !(weight.isFinite && weight >= 0) {
            throw PrefixRouterError(
                .invalidParameter,
                "weights.\(name): expected a finite number ≥ 0, found \(weight)"
            )
        }
        self.weights = weights
        self.index = try PrefixIndex(capacityPerReplica: capacityPerPod)
        self.random = seed.map(RandomSource.init(seed:)) ?? RandomSource()
    }

    public mutating func choose(for request: RoutingRequest, in fleet: Fleet) -> RoutingChoice? {
        let count = fleet.eligibleCount
        guard count > 0 else { return nil }
        var minQueue = Int.max
        var maxQueue = Int.min
        var largestSlot = 0
        for position in 0..<count {
            let pod = fleet.eligible(at: position)
            let queue = fleet.outstanding(of: pod)
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
        var ties: UInt64 = 0
        for position in 0..<count {
            let pod = fleet.eligible(at: position)
            let prefixScore = total > 0 ? Double(matched[pod.rawValue]) / Double(total) : 0
            let queue = fleet.outstanding(of: pod)
            let queueScore = maxQueue == minQueue ? 1 : Double(maxQueue - queue) / Double(maxQueue - minQueue)
            let score = weights.prefix * prefixScore + weights.queue * queueScore
            if score > bestScore {
                best = pod
                bestScore = score
                ties = 1
            } else if score == bestScore {
                ties += 1
                if random.next(upperBound: ties) == 0 { best = pod }
            }
        }
        swap(&matched, &matchedBySlot)
        index.insert(request.blockHashes, for: fleet.id(of: best))
        return RoutingChoice(best, reason: LLMDScorer.scoredReason)
    }

    /// Drops the LRUs of pods that left the fleet.
    public mutating func fleetDidChange(_ fleet: Fleet) {
        index.removeReplicas { fleet.index(of: $0) == nil }
    }
}
