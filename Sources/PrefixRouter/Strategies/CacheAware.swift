/// Cache-aware routing with an approximate prefix index and the bounded-load cap: each request goes to the
/// replica that probably holds the longest run of its leading blocks, among the replicas below their
/// bounded-load capacity; requests that match nothing go to a fallback strategy.
///
/// The index (``PrefixIndex``) records the blocks of every request under the replica it was sent to, in a
/// per-replica LRU of bounded size, so it approximates each engine's prefix cache without any KV events
/// from the engines. This is SGLang's `cache_aware` idea with two changes learned from its users' reports:
/// the load guard is the bounded-load cap (`c ×` the mean, checked per candidate) instead of two global
/// imbalance thresholds, and misses go to a load-aware fallback (least outstanding by default), never to
/// "the smallest tree".
///
/// Compared with ``PrefixAffinity``: it finds shared prefixes at any depth (a conversation's second turn
/// matches its first even when the first was shorter than the key depth), but its state is per gateway —
/// several gateways each learn their own index and may disagree — and a route costs O(n · matched blocks)
/// instead of O(log V). Use ``PrefixAffinity`` when several gateways share the traffic without sticky
/// connections; use this one behind a single gateway (or with client affinity to gateways).
///
/// Memory: ``PrefixIndex/memoryBound(capacityPerReplica:replicas:)``, 32–48 bytes per recorded block.
///
/// - Complexity: O(n · (m + 1)) per route for n eligible replicas and m the longest match, plus O(k) to
///   record the request's k blocks; allocation-free once the index is warm.
public struct CacheAware<Fallback: RoutingStrategy>: RoutingStrategy {
    /// The request was sent to the replica with the longest recorded match.
    public static var cacheMatchReason: RoutingReason { RoutingReason("cache_match") }
    /// No replica with room had recorded the request's first block; the fallback placed it.
    public static var cacheMissReason: RoutingReason { RoutingReason("cache_miss") }

    /// The approximate per-replica prefix index.
    public private(set) var index: PrefixIndex
    /// Matches shorter than this many blocks are treated as misses. At least 1.
    public let minimumMatchBlocks: Int
    /// Places misses and requests without blocks.
    public var fallback: Fallback

    /// Creates the strategy.
    ///
    /// - Parameters:
    ///   - capacityPerReplica: blocks recorded per replica; set it to the engine's KV capacity in blocks
    ///     (for example 26,000 blocks of 16 tokens for an 8B model on an 80 GB GPU) so that the index forgets
    ///     roughly when the engine does.
    ///   - minimumMatchBlocks: the shortest match worth following.
    ///   - fallback: places misses.
    /// - Throws: ``PrefixRouterError`` when a parameter is out of range.
    public init(
        capacityPerReplica: Int = PrefixIndex.defaultCapacityPerReplica, minimumMatchBlocks: Int = 1,
        fallback: Fallback
    ) throws(PrefixRouterError) {
        guard minimumMatchBlocks >= 1 else {
            throw PrefixRouterError(
                .invalidParameter, "minimumMatchBlocks: expected at least 1, found \(minimumMatchBlocks)")
        }
        self.index = try PrefixIndex(capacityPerReplica: capacityPerReplica)
        self.minimumMatchBlocks = minimumMatchBlocks
        self.fallback = fallback
    }

    public mutating func choose(for request: RoutingRequest, in fleet: Fleet) -> RoutingChoice? {
        guard !request.blockHashes.isEmpty else {
            return fallback.choose(for: request, in: fleet).map { RoutingChoice($0.replica, reason: .fallback) }
        }
        var best: Fleet.Index?
        var bestMatch = 0
        request.blockHashes.withUnsafeBufferPointer { hashes in
            for position in 0..<fleet.eligibleCount {
                let candidate = fleet.eligible(at: position)
                guard fleet.hasCapacity(candidate) else { continue }
                let matched = index.longestMatch(of: hashes, for: fleet.id(of: candidate))
                let isBetter =
                    matched > bestMatch
                    || (matched == bestMatch && matched > 0
                        && (best.map { fleet.isLessLoaded(candidate, than: $0) } ?? true))
                if isBetter {
                    best = candidate
                    bestMatch = matched
                }
            }
        }
        let choice: RoutingChoice
        if let best, bestMatch >= minimumMatchBlocks {
            choice = RoutingChoice(best, reason: Self.cacheMatchReason)
        } else if let placed = fallback.choose(for: request, in: fleet) {
            choice = RoutingChoice(placed.replica, reason: Self.cacheMissReason)
        } else {
            return nil
        }
        index.insert(request.blockHashes, for: fleet.id(of: choice.replica))
        return choice
    }

    public mutating func fleetDidChange(_ fleet: Fleet) {
        index.removeReplicas { fleet.index(of: $0) == nil }
        fallback.fleetDidChange(fleet)
    }
}
