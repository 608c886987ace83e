import PrefixRouter

extension ReferenceLines {
    /// The pooled LRU with the blocks of running requests pinned, as the simulated engines pin them: one
    /// ``KVCache`` of the fleet's total size, every request admitted at its arrival (after the speed-up) with no
    /// queue, as if the fleet were one replica with the fleet's memory and unlimited compute.
    ///
    /// Request `i` arriving at `aᵢ` hits its longest leading run of blocks that are resident *and computed* at
    /// `aᵢ` (a block another request is still prefilling is not a hit, as in the simulator), then pins all its
    /// blocks (evicting unpinned ones, tail first, when the pool is full; what does not fit beside the pinned
    /// ones is not cached). Its new blocks are computed at `aᵢ + pᵢ`, `pᵢ` its own chunked prefill at that hit
    /// (the TTFT floor's formula), and it is released at `aᵢ + pᵢ + (outputᵢ − 1) · (step + per-token · inputᵢ)`:
    /// its decode alone, the shortest time any simulated engine could hold it. Real engines queue and batch, so
    /// they hold blocks longer: this line pins the least the bench's engines could. It is a reference, not a
    /// strict bound: pinning also changes the eviction order (a pinned block is touched again at its release),
    /// so on a small pool it can hit more than ``pooledLRU``.
    ///
    /// - Complexity: O(B + R log R) for B block references and R requests.
    public static func pooledPinnedLRU(
        _ requests: [TraceRequest],
        capacityBlocks: Int?,
        parameters: SimulationParameters
    ) -> CacheBound {
        var cache = KVCache(capacity: capacityBlocks ?? Int.max)
        var releases = MinHeap<PinnedRelease>()
        var pinned: [[Int32]] = []
        var anonymousHeld: [Int] = []
        pinned.reserveCapacity(requests.count)
        anonymousHeld.reserveCapacity(requests.count)
        var prompt = 0
        var hit = 0
        for (index, request) in requests.enumerated() {
            let now = request.arrival / parameters.speedup
            while let next = releases.min, next.time <= now {
                _ = releases.pop()
                cache.release(pinned[next.request], anonymous: anonymousHeld[next.request])
                pinned[next.request] = []
            }
            let blockSize = Swift.max(1, request.blockSize)
            let anonymous = Swift.max(0, (request.inputTokens + blockSize - 1) / blockSize - request.blockHashes.count)
            let lookup = cache.lookup(request.blockHashes, anonymous: anonymous, now: now)
            let hitTokens = Swift.min(lookup.readyBlocks * blockSize, request.inputTokens)
            hit += hitTokens
            prompt += request.inputTokens
            let prefill = prefillSeconds(
                uncached: Swift.max(1, request.inputTokens - hitTokens),
                parameters: parameters
            )
            let decode =
                Double(Swift.max(0, request.outputTokens - 1))
                * (parameters.decodeStepSeconds + parameters.decodeSecondsPerContextToken * Double(request.inputTokens))
            let admitted = cache.admit(request.blockHashes, anonymous: anonymous, readyAt: now + prefill)
            pinned.append(admitted.entries)
            anonymousHeld.append(admitted.anonymous)
            releases.push(PinnedRelease(time: now + prefill + decode, request: index))
        }
        return CacheBound(
            capacityBlocks: capacityBlocks,
            promptTokens: prompt,
            hitTokens: hit,
            hitRate: prompt > 0 ? Double(hit) / Double(prompt) : 0
        )
    }

    /// A request's own chunked prefill of `uncached` tokens on an idle replica, in seconds. O(1).
    static func prefillSeconds(uncached: Int, parameters: SimulationParameters) -> Double {
        let steps = Swift.max(1, (uncached + parameters.prefillBatchTokens - 1) / parameters.prefillBatchTokens)
        return Double(steps) * parameters.prefillOverheadSeconds + Double(uncached) / parameters.prefillTokensPerSecond
    }
}

/// When a request of the pinned pooled line releases its blocks; the min-heap pops the earliest first (then
/// the earlier request, for a deterministic order).
struct PinnedRelease: Comparable {
    var time: Double
    var request: Int

    static func < (lhs: PinnedRelease, rhs: PinnedRelease) -> Bool {
        lhs.time != rhs.time ? lhs.time < rhs.time : lhs.request < rhs.request
    }
}
