public import PrefixRouter

/// SGLang router / SMG `cache_aware`, the default policy of SGLang's model gateway, re-implemented from its
/// published decision rule (sglang `sgl-router` `cache_aware` policy, after sglang PR #14305
/// replaced "smallest tree" with the least loaded worker for misses):
///
/// 1. Over the healthy (eligible) workers find the minimum and maximum load, where load is the number of
///    in-flight requests the router counts itself (``Fleet/outstanding(of:)``), and
///    `min_load_idx = argmin(load, processed_count, index)` (`processed_count`: requests this strategy has
///    routed to the worker; `index`: position among the eligible replicas).
/// 2. The fleet is *imbalanced* iff `max − min > balance_abs_threshold` **and**
///    `max > min × balance_rel_threshold`. Then route to `min_load_idx` (and still insert the request).
/// 3. Otherwise `match_rate = matched tokens ÷ input tokens` against each worker's approximate index; if
///    `match_rate > cache_threshold` route to the worker with the longest match, else to `min_load_idx`. When
///    several workers hold the same longest match, SGLang's tree returns one tenant of the matched node, its
///    cached last tenant (the worker that last inserted a prompt through that node), else the first in map
///    order (`lightseekorg/smg`, `crates/kv_index/src/string_tree.rs`): load is not consulted among holders,
///    and the pick is sticky (the request is inserted under it, so it stays the last tenant). Here the matched
///    node is the last matched block, whose last inserter is kept in ``lastTenant``; "map order" is the
///    eligible order.
/// 4. Insert the request under the chosen worker; each worker's index is capped (LRU).
///
/// Defaults (SGLang's): `cache_threshold` 0.3, `balance_abs_threshold` 64, `balance_rel_threshold` 1.5,
/// `max_tree_size` 2^26 characters per worker. The optional KV-usage imbalance triggers are off by default in
/// SGLang and are not modelled.
///
/// Differences from the original, all forced by the block-hash world:
/// - SGLang matches characters (or tokens) in a radix tree; here the tree is a ``PrefixIndex`` of the
///   request's block hashes, and matched tokens = matched blocks × the request's block size (a partial last
///   block cannot match).
/// - The cap is in blocks: ``Configuration/maxTreeSizeCharacters`` ÷ 4 characters per token ÷ the block size
///   of the first request with a prefix (2^26 characters → 32,768 blocks of 512 tokens, 1,048,576 of 16).
/// - SGLang evicts in a background pass every 120 s (`eviction_interval`), so its tree may briefly exceed
///   the cap; here eviction happens at insertion, so the cap always holds.
///
/// - Complexity: O(n + Σ matched blocks) per route for n eligible replicas, plus O(k) to record k blocks.
public struct SGLangCacheAware: RoutingStrategy {
    /// SGLang's tunables, with its defaults.
    public struct Configuration: Hashable, Sendable {
        /// Route to the longest match only when `matched ÷ input` exceeds this (strictly). Default 0.3.
        public var cacheThreshold: Double
        /// The absolute load gap (in-flight requests) that must be exceeded for the imbalance override.
        /// Default 64.
        public var balanceAbsThreshold: Int
        /// The ratio max ÷ min that must be exceeded for the imbalance override. Default 1.5.
        public var balanceRelThreshold: Double
        /// Per-worker index size cap in characters (SGLang's `max_tree_size`). Default 2^26.
        public var maxTreeSizeCharacters: Int
        /// Characters per token when converting ``maxTreeSizeCharacters`` to tokens. Default 4.
        public var charactersPerToken: Int

        /// Creates a configuration; the defaults are SGLang's.
        public init(
            cacheThreshold: Double = 0.3,
            balanceAbsThreshold: Int = 64,
            balanceRelThreshold: Double = 1.5,
            maxTreeSizeCharacters: Int = 1 << 26,
            charactersPerToken: Int = 4
        ) {
            self.cacheThreshold = cacheThreshold
            self.balanceAbsThreshold = balanceAbsThreshold
            self.balanceRelThreshold = balanceRelThreshold
            self.maxTreeSizeCharacters = maxTreeSizeCharacters
            self.charactersPerToken = charactersPerToken
        }

        /// The per-worker capacity in blocks of `blockSize` tokens (at least 1, at most
        /// ``PrefixIndex/maximumCapacityPerReplica``).
        public func capacityBlocks(blockSize: Int) -> Int {
            let tokens = maxTreeSizeCharacters / Swift.max(1, charactersPerToken)
            return Swift.min(PrefixIndex.maximumCapacityPerReplica, Swift.max(1, tokens / Swift.max(1, blockSize)))
        }
    }

    /// Routed to the longest match (match rate above the threshold).
    public static let cacheMatchReason = RoutingReason("cache_match")
    /// Routed to `min_load_idx` because the fleet was imbalanced.
    public static let imbalanceReason = RoutingReason("imbalance")
    /// Routed to `min_load_idx` because the match rate was at or below the threshold.
    public static let minimumLoadReason = RoutingReason("min_load")

    /// The tunables.
    public let configuration: Configuration
    /// The per-worker approximate index; created at the first request with a prefix (its capacity depends on
    /// the block size). Public for inspection and tests.
    public private(set) var index: PrefixIndex?
    /// Requests routed to each worker (`processed_count`), for the `min_load_idx` tie-break.
    public private(set) var processedCount: [ReplicaID: Int] = [:]
    /// The last worker that inserted a prompt through each block (the tree node's cached last tenant).
    /// Grows with the distinct blocks seen (a simulation baseline, not bounded like SGLang's tree).
    public private(set) var lastTenant: [BlockHash: ReplicaID] = [:]

    /// Creates the strategy.
    ///
    /// - Throws: ``PrefixRouterError`` when a threshold is negative or not finite, or a size is below 1.
    public init(configuration: Configuration = Configuration()) throws(PrefixRouterError) {
        guard configuration.cacheThreshold.isFinite, configuration.cacheThreshold >= 0 else {
            throw PrefixRouterError(
                .invalidParameter,
                "cacheThreshold: expected a finite number ≥ 0, found \(configuration.cacheThreshold)"
            )
        }
        guard configuration.balanceAbsThreshold >= 0 else {
            throw PrefixRouterError(
                .invalidParameter,
                "balanceAbsThreshold: expected ≥ 0, found \(configuration.balanceAbsThreshold)"
            )
        }
        guard configuration.balanceRelThreshold.isFinite, configuration.balanceRelThreshold >= 0 else {
            throw PrefixRouterError(
                .invalidParameter,
                "balanceRelThreshold: expected a finite number ≥ 0, found \(configuration.balanceRelThreshold)"
            )
        }
        guard configuration.maxTreeSizeCharacters >= 1, configuration.charactersPerToken >= 1 else {
            throw PrefixRouterError(
                .invalidParameter,
                "maxTreeSizeCharacters, charactersPerToken: expected ≥ 1, found "
                    + "\(configuration.maxTreeSizeCharacters), \(configuration.charactersPerToken)"
            )
        }
        self.configuration = configuration
    }

    /// A worker's place in the `min_load_idx` order: load, then processed count, then position.
    private struct Rank: Comparable {
        var load: Int
        var processed: Int
        var position: Int

        static let worst = Rank(load: .max, processed: .max, position: .max)

        static func < (a: Rank, b: Rank) -> Bool {
            (a.load, a.processed, a.position) < (b.load, b.processed, b.position)
        }
    }

    private func rank(of replica: Fleet.Index, at position: Int, in fleet: Fleet) -> Rank {
        Rank(
            load: fleet.outstanding(of: replica),
            processed: processedCount[fleet.id(of: replica), default: 0],
            position: position
        )
    }

    /// Chooses a replica for `request` as described in the type's documentation.
    public mutating func choose(for request: RoutingRequest, in fleet: Fleet) -> RoutingChoice? {
        let count = fleet.eligibleCount
        guard count > 0 else { return nil }
        // Step 1: min / max load and min_load_idx.
        var minimum = Rank.worst
        var maxLoad = Int.min
        for position in 0..<count {
            let candidate = rank(of: fleet.eligible(at: position), at: position, in: fleet)
            minimum = Swift.min(minimum, candidate)
            maxLoad = Swift.max(maxLoad, candidate.load)
        }
        var chosen = minimum.position
        var reason = SGLangCacheAware.minimumLoadReason
        // Step 2: the imbalance override.
        let imbalanced =
            maxLoad - minimum.load > configuration.balanceAbsThreshold
            && Double(maxLoad) > Double(minimum.load) * configuration.balanceRelThreshold
        if imbalanced {
            reason = SGLangCacheAware.imbalanceReason
        } else if let index, !request.blockHashes.isEmpty, request.tokenCount > 0 {
            // Step 3: the longest match; among equal holders, the node's last tenant, else the first holder.
            var bestMatched = 0
            var firstHolder = -1
            var lastTenantPosition = -1
            request.blockHashes.withUnsafeBufferPointer { hashes in
                for position in 0..<count {
                    let matched = index.longestMatch(of: hashes, for: fleet.id(of: fleet.eligible(at: position)))
                    guard matched > 0, matched >= bestMatched else { continue }
                    if matched > bestMatched {
                        (bestMatched, firstHolder, lastTenantPosition) = (matched, position, -1)
                    }
                }
                guard bestMatched > 0, let tenant = lastTenant[hashes[bestMatched - 1]],
                    let replica = fleet.index(of: tenant), fleet.isEligible(replica),
                    index.longestMatch(of: hashes, for: tenant) == bestMatched
                else { return }
                for position in 0..<count where fleet.eligible(at: position) == replica {
                    lastTenantPosition = position
                }
            }
            let best = lastTenantPosition >= 0 ? lastTenantPosition : firstHolder
            let matchedTokens = Swift.min(bestMatched * request.blockSize, request.tokenCount)
            if bestMatched > 0, Double(matchedTokens) / Double(request.tokenCount) > configuration.cacheThreshold {
                chosen = best
                reason = SGLangCacheAware.cacheMatchReason
            }
        }
        // Step 4: insert under the chosen worker, whichever rule chose it.
        let replica = fleet.eligible(at: chosen)
        let id = fleet.id(of: replica)
        if !request.blockHashes.isEmpty {
            if index == nil {
                // The capacity is valid by construction (1...maximumCapacityPerReplica), so this cannot fail.
                let capacity = configuration.capacityBlocks(blockSize: request.blockSize)
                index = try? PrefixIndex(capacityPerReplica: capacity)
            }
            index?.insert(request.blockHashes, for: id)
            for block in request.blockHashes { lastTenant[block] = id }
        }
        processedCount[id, default: 0] += 1
        return RoutingChoice(replica, reason: reason)
    }

    /// Drops the index and counters of replicas that left the fleet.
    public mutating func fleetDidChange(_ fleet: Fleet) {
        index?.removeReplicas { fleet.index(of: $0) == nil }
        processedCount = processedCount.filter { fleet.index(of: $0.key) != nil }
        lastTenant = lastTenant.filter { fleet.index(of: $0.value) != nil }
    }
}
