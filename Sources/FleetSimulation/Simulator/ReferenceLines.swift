import Histogram
@_spi(Internals) import PrefixRouter

/// Reference lines computed from the trace alone, without timing: what a router can reach in front of LRU
/// engines, what clairvoyance would add, and the latency no router can beat.
///
/// - **Pooled LRU** (``pooledLRU``): one LRU cache of the fleet's total size (`replicas × C` blocks) seeing
///   every request in arrival order. A request hits its longest leading run of resident blocks (token-weighted,
///   `min(blocks × block size, prompt)`); then its blocks enter the cache, touched from the last to the first
///   so that a prompt's tail is evicted before its head (as the simulated engines do). No router in front of
///   `n` LRU caches of `C` blocks does much better: it can only split this one cache into `n` (see
///   ../shared/reference/ROUTING-CEILING.md, §1).
/// - **Pooled LRU, running requests pinned** (``pooledPinned``): the same pool, but the blocks of a running
///   request cannot be evicted (as in the simulated engines) and a block is a hit only once computed; each
///   request runs from its arrival for its shortest possible service time (see
///   ``pooledPinnedLRU(_:capacityBlocks:parameters:)``). The only timed cache line.
/// - **Clairvoyant** (``belady``): the same space with Belady's eviction (evict the block whose next use is
///   furthest; among equal next uses, the later block of its prompt). Unreachable by a router: it knows the
///   future and places every block in one cache.
/// - **TTFT floor** (``ttftFloor``): each request alone on an idle replica with the oracle's hit (the best any
///   cache could give it): `⌈uncached ÷ prefill batch⌉` steps of the fixed overhead plus `uncached ÷ rate`.
///   Queueing and decode interference are what a router's TTFT adds on top.
public struct ReferenceLines: Hashable, Sendable, Codable {
    /// A cache bound: prompt tokens, hit tokens, and the cache size it assumes.
    public struct CacheBound: Hashable, Sendable, Codable {
        /// Blocks in the pooled cache (nil: unbounded, the bound is then the oracle's).
        public var capacityBlocks: Int?
        /// Prompt tokens in the trace.
        public var promptTokens: Int
        /// Tokens the cache would serve.
        public var hitTokens: Int
        /// hitTokens / promptTokens (0 for an empty trace).
        public var hitRate: Double
    }

    /// One LRU of `replicas × C` blocks seeing every request.
    public var pooledLRU: CacheBound
    /// The same pool with the blocks of running requests pinned for their shortest possible service time
    /// (``pooledPinnedLRU(_:capacityBlocks:parameters:)``): timed, so it depends on the speed-up.
    public var pooledPinned: CacheBound
    /// Belady's eviction in the same space (unreachable by a router).
    public var belady: CacheBound
    /// TTFT percentiles of each request's own prefill at the oracle's hit, with no queue.
    public var ttftFloor: StrategyResult.Percentiles

    /// Computes the four lines for `requests` on the fleet `parameters` describe.
    ///
    /// - Complexity: O(B log B) for B block references in the trace.
    public init(requests: [TraceRequest], parameters: SimulationParameters) {
        let blockSize = requests.first?.blockSize ?? 1
        let perReplica = parameters.cacheCapacity(blockSize: blockSize)
        let (pooled, overflow) = perReplica.multipliedReportingOverflow(by: parameters.replicas)
        let capacity: Int? = perReplica == Int.max || overflow ? nil : pooled
        self.pooledLRU = ReferenceLines.pooledLRU(requests, capacityBlocks: capacity)
        self.pooledPinned = ReferenceLines.pooledPinnedLRU(requests, capacityBlocks: capacity, parameters: parameters)
        self.belady = ReferenceLines.belady(requests, capacityBlocks: capacity)
        self.ttftFloor = ReferenceLines.ttftFloor(requests, parameters: parameters)
    }

    /// One LRU of `capacityBlocks` (nil: unbounded) over every request in order. O(B) expected.
    public static func pooledLRU(_ requests: [TraceRequest], capacityBlocks: Int?) -> CacheBound {
        var prompt = 0
        var hit = 0
        let indexCapacity = Swift.min(
            capacityBlocks ?? PrefixIndex.maximumCapacityPerReplica,
            PrefixIndex.maximumCapacityPerReplica
        )
        // The capacity is clamped into the accepted range, so this cannot fail.
        guard var cache = try? PrefixIndex(capacityPerReplica: Swift.max(1, indexCapacity)) else {
            return CacheBound(capacityBlocks: capacityBlocks, promptTokens: 0, hitTokens: 0, hitRate: 0)
        }
        let pool: ReplicaID = "pool"
        for request in requests {
            let leading = cache.longestMatch(of: request.blockHashes, for: pool)
            hit += Swift.min(leading * request.blockSize, request.inputTokens)
            prompt += request.inputTokens
            cache.insert(request.blockHashes, for: pool)
        }
        return CacheBound(
            capacityBlocks: capacityBlocks,
            promptTokens: prompt,
            hitTokens: hit,
            hitRate: prompt > 0 ? Double(hit) / Double(prompt) : 0
        )
    }

    /// Belady's clairvoyant eviction in `capacityBlocks` (nil: unbounded). O(B log B).
    public static func belady(_ requests: [TraceRequest], capacityBlocks: Int?) -> CacheBound {
        // Next use of each block reference: the index of the next request that holds the same block.
        var nextUse: [[Int]] = requests.map { Array(repeating: Int.max, count: $0.blockHashes.count) }
        var seenAt: [BlockHash: Int] = [:]
        for index in requests.indices.reversed() {
            for (position, block) in requests[index].blockHashes.enumerated() {
                if let later = seenAt[block] { nextUse[index][position] = later }
                seenAt[block] = index
            }
        }
        // Resident blocks with their current next use; a max-heap on (next use, position) with lazy deletion.
        var resident: [BlockHash: Int] = [:]
        var heap = MinHeap<EvictionCandidate>()
        var prompt = 0
        var hit = 0
        let capacity = capacityBlocks ?? Int.max
        for (index, request) in requests.enumerated() {
            var leading = 0
            while leading < request.blockHashes.count, resident[request.blockHashes[leading]] != nil { leading += 1 }
            hit += Swift.min(leading * request.blockSize, request.inputTokens)
            prompt += request.inputTokens
            for (position, block) in request.blockHashes.enumerated() {
                let next = nextUse[index][position]
                resident[block] = next
                heap.push(EvictionCandidate(nextUse: next, position: position, block: block))
            }
            while resident.count > capacity, let victim = heap.pop() {
                if resident[victim.block] == victim.nextUse { resident[victim.block] = nil }
            }
        }
        return CacheBound(
            capacityBlocks: capacityBlocks,
            promptTokens: prompt,
            hitTokens: hit,
            hitRate: prompt > 0 ? Double(hit) / Double(prompt) : 0
        )
    }

    /// TTFT percentiles of each request prefilled alone at the oracle's hit. O(B).
    public static func ttftFloor(
        _ requests: [TraceRequest],
        parameters: SimulationParameters
    ) -> StrategyResult.Percentiles {
        var histogram = Histogram<UInt64>(highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: .three)
        var seen = Set<BlockHash>()
        for request in requests {
            var leading = 0
            while leading < request.blockHashes.count, seen.contains(request.blockHashes[leading]) { leading += 1 }
            seen.formUnion(request.blockHashes)
            let uncached = request.inputTokens - Swift.min(leading * request.blockSize, request.inputTokens)
            let seconds = prefillSeconds(uncached: uncached, parameters: parameters)
            _ = histogram.record(UInt64(Swift.max(0, Swift.min(seconds * 1e6, 9.9e9)).rounded()))
        }
        guard histogram.totalCount > 0 else { return .init(p50: 0, p90: 0, p99: 0) }
        return .init(
            p50: Double(histogram.valueAtPercentile(50)) / 1e6,
            p90: Double(histogram.valueAtPercentile(90)) / 1e6,
            p99: Double(histogram.valueAtPercentile(99)) / 1e6
        )
    }
}

/// A resident block in the clairvoyant cache, ordered so that the *min*-heap pops the block to evict first:
/// the furthest next use, then the later position in its prompt.
struct EvictionCandidate: Comparable {
    var nextUse: Int
    var position: Int
    var block: BlockHash

    static func < (lhs: EvictionCandidate, rhs: EvictionCandidate) -> Bool {
        lhs.nextUse != rhs.nextUse ? lhs.nextUse > rhs.nextUse : lhs.position > rhs.position
    }

    static func == (lhs: EvictionCandidate, rhs: EvictionCandidate) -> Bool {
        lhs.nextUse == rhs.nextUse && lhs.position == rhs.position && lhs.block == rhs.block
    }
}
