/// An approximate, bounded-memory record of which prompt blocks each replica has probably cached: the
/// building block of cache-aware strategies in a gateway that receives no KV events from its engines.
///
/// For each replica the index keeps the block hashes of the requests routed to it, in an LRU of at most
/// ``capacityPerReplica`` hashes (llm-d's approximate indexer does the same; its default capacity when the
/// engine's cache size is unknown is 31,250 blocks, ``defaultCapacityPerReplica``). A strategy
/// ``insert(_:for:)-([BlockHash],_)``s a request's hashes under the replica it chose and asks ``longestMatch(of:for:)-([BlockHash],_)`` or
/// `matches(of:_:)` how much of a new request each replica probably holds.
///
/// ### Prefix closure
/// ``insert(_:for:)-([BlockHash],_)`` touches a request's hashes from the last to the first, so that a block is always more
/// recent than the blocks after it in any prompt that contains it (the same reason vLLM frees a request's
/// blocks tail first). Because block hashes are chained, the LRU therefore evicts a prompt's tail before its
/// head and each replica's set stays *prefix-closed*: if it holds block *i* of a prompt it holds blocks
/// 0..<i too (barring 64-bit collisions). Inserting more than ``capacityPerReplica`` hashes at once keeps the
/// leading ones.
///
/// ### Keys
/// Replicas are keyed by ``ReplicaID``, the name that survives membership changes. `Fleet.Index` slots are
/// reused after a removal and an addition, and `Fleet.version` changes on every change, so neither can key
/// cached state. In ``RoutingStrategy/fleetDidChange(_:)`` drop the replicas that left with
/// ``removeReplicas(where:)`` (`{ fleet.index(of: $0) == nil }`); a replica removed and added back then starts
/// cold, like its engine.
///
/// ### Memory bound
/// Per replica: 16 bytes per LRU node (8-byte hash, two 4-byte links) plus 12 bytes per hash-table slot
/// (8-byte hash, 4-byte node number), with the slot count the smallest power of two ≥ 4/3 of the nodes (and
/// ≥ 8). At capacity *C* that is `16·C + 12·T(C)` bytes, between 32 and 48 bytes per block; see
/// ``memoryBound(capacityPerReplica:replicas:)``. The default 31,250 blocks take 16 × 31,250 + 12 × 65,536 =
/// 1,286,432 bytes (≈ 1.23 MiB) per replica, ≈ 9.8 MiB for 8 replicas. Array headers, the replica map and
/// allocator rounding add a few hundred bytes per replica on top. Tables start small and double as they fill,
/// so a lightly used replica costs less; ``approximateMemoryBytes`` reports the current figure.
///
/// ### Cost
/// ``insert(_:for:)-([BlockHash],_)`` is O(k) expected for k hashes, ``longestMatch(of:for:)-([BlockHash],_)`` O(m) for a match of m blocks,
/// `matches(of:_:)` O(R · s) for R replicas and s the blocks before the first block no replica holds. None
/// allocates once the replica's table has reached its capacity (the fleet query uses stack scratch space).
///
/// A value type: copies are independent (copy-on-write arrays).
public struct PrefixIndex: Sendable {
    /// llm-d's per-pod LRU size when the engine's cache size is unknown: 31,250 blocks.
    public static let defaultCapacityPerReplica = 31_250
    /// The largest accepted per-replica capacity (node numbers are 32-bit).
    public static let maximumCapacityPerReplica = 1 << 30

    /// The most block hashes kept per replica.
    public let capacityPerReplica: Int
    private var tables: [BlockLRU] = []
    private var ids: [ReplicaID] = []
    private var positionOfID: [ReplicaID: Int] = [:]

    /// Creates an empty index.
    ///
    /// - Throws: ``PrefixRouterError`` (``PrefixRouterError/Code/invalidParameter``) when
    ///   `capacityPerReplica` is outside `1...maximumCapacityPerReplica`.
    public init(capacityPerReplica: Int = PrefixIndex.defaultCapacityPerReplica) throws(PrefixRouterError) {
        guard (1...PrefixIndex.maximumCapacityPerReplica).contains(capacityPerReplica) else {
            throw PrefixRouterError(
                .invalidParameter,
                "capacityPerReplica: expected 1...\(PrefixIndex.maximumCapacityPerReplica), "
                    + "found \(capacityPerReplica)"
            )
        }
        self.capacityPerReplica = capacityPerReplica
    }

    /// The worst-case bytes of table storage for `replicas` replicas at `capacityPerReplica` blocks each:
    /// `replicas × (16 · C + 12 · T(C))`, with `T(C)` the smallest power of two ≥ 4C/3 and ≥ 8 (see the type's
    /// documentation). Excludes array headers and allocator rounding.
    public static func memoryBound(capacityPerReplica: Int, replicas: Int) -> Int {
        let capacity = Swift.max(0, capacityPerReplica)
        return Swift.max(0, replicas) * (16 * capacity + 12 * BlockLRU.slotCount(forNodes: capacity))
    }

    /// The bytes of table storage allocated now (16 per reserved LRU node, 12 per hash-table slot, summed
    /// over the replicas). Never exceeds ``memoryBound(capacityPerReplica:replicas:)`` for ``replicaCount``.
    /// O(R).
    public var approximateMemoryBytes: Int { tables.reduce(0) { $0 + $1.elementBytes } }

    /// The number of replicas with a table (those that have had an insertion and were not removed).
    public var replicaCount: Int { tables.count }

    /// The replicas with a table, in no particular order. O(R); allocates.
    public var replicas: [ReplicaID] { ids }

    /// How many block hashes the index holds for `replica` (0 if none). O(1) expected.
    public func count(for replica: ReplicaID) -> Int {
        positionOfID[replica].map { tables[$0].count } ?? 0
    }

    // MARK: Recording

    /// Records that `replica` now probably holds `hashes` (a prompt's leading blocks, in prompt order): each
    /// becomes most recently used, the first most of all, evicting the least recently used hashes beyond
    /// ``capacityPerReplica``. Only the first ``capacityPerReplica`` hashes are recorded.
    ///
    /// - Complexity: O(k) expected for k hashes; allocation-free once the replica's table is full.
    public mutating func insert(_ hashes: UnsafeBufferPointer<BlockHash>, for replica: ReplicaID) {
        guard !hashes.isEmpty else { return }
        let position = table(for: replica)
        var block = Swift.min(hashes.count, capacityPerReplica)
        while block > 0 {
            block -= 1
            tables[position].touch(hashes[block].rawValue)
        }
    }

    /// Records `hashes` touching them in prompt order, so that the *last* becomes the most recently used and LRU
    /// pressure evicts a prompt's head first, as llm-d's approximate indexer does. The replica's set is then no
    /// longer prefix-closed: query it with ``longestMatch(of:for:)-([BlockHash],_)`` or `matches(of:_:)`, not
    /// ``prefixClosedMatch(of:for:)``. For faithful peer baselines; strategies should use
    /// ``insert(_:for:)-([BlockHash],_)``. Only the last ``capacityPerReplica`` hashes stay.
    ///
    /// - Complexity: O(k) expected for k hashes.
    @_spi(Internals) public mutating func insertInPromptOrder(_ hashes: [BlockHash], for replica: ReplicaID) {
        guard !hashes.isEmpty else { return }
        let position = table(for: replica)
        for hash in hashes { tables[position].touch(hash.rawValue) }
    }

    /// The table position of `replica`, created empty if needed.
    private mutating func table(for replica: ReplicaID) -> Int {
        if let existing = positionOfID[replica] { return existing }
        let position = tables.count
        tables.append(BlockLRU(capacity: capacityPerReplica))
        ids.append(replica)
        positionOfID[replica] = position
        return position
    }

    /// Applies what a strategy learned from outside the request path, for members of `fleet` only:
    /// `.placement` records its blocks under the replica (as if this router had placed the request);
    /// `.cachedTokens` records the leading `cachedTokens ÷ blockSize` blocks. Other feedback is ignored.
    ///
    /// - Complexity: O(k) for k blocks.
    mutating func record(_ feedback: RoutingFeedback, in fleet: Fleet) {
        switch feedback {
        case .placement(let blocks, let replica) where fleet.index(of: replica) != nil:
            insert(blocks, for: replica)
        case .cachedTokens(let tokens, let blocks, let blockSize, let replica) where fleet.index(of: replica) != nil:
            let held = Swift.min(blocks.count, Swift.max(0, tokens) / Swift.max(1, blockSize))
            guard held > 0 else { return }
            blocks.withUnsafeBufferPointer { insert(UnsafeBufferPointer(rebasing: $0[..<held]), for: replica) }
        default:
            break
        }
    }

    /// Forgets the `count` least recently used hashes of `replica` (all of them if it holds fewer): the ones an
    /// LRU engine evicts first. For a strategy that learns its index over-estimates what the engine holds
    /// (an engine reported fewer cached tokens than the index predicted). Keeps each replica's set
    /// prefix-closed, as eviction does. Nothing happens for a replica the index does not know.
    ///
    /// - Complexity: O(count) expected.
    public mutating func removeLeastRecent(_ count: Int, for replica: ReplicaID) {
        guard let position = positionOfID[replica] else { return }
        tables[position].removeOldest(count)
    }

    /// Records `hashes` under `replica`; see ``insert(_:for:)-(UnsafeBufferPointer<BlockHash>,_)``.
    public mutating func insert(_ hashes: [BlockHash], for replica: ReplicaID) {
        hashes.withUnsafeBufferPointer { insert($0, for: replica) }
    }

    // MARK: Matching

    /// The number of leading `hashes` that `replica` holds: the largest m such that it holds `hashes[0..<m]`.
    /// 0 for a replica the index does not know. Does not change recency.
    ///
    /// - Complexity: O(m + 1) expected; no allocation.
    public func longestMatch(of hashes: UnsafeBufferPointer<BlockHash>, for replica: ReplicaID) -> Int {
        guard let position = positionOfID[replica] else { return 0 }
        var matched = 0
        while matched < hashes.count, tables[position].contains(hashes[matched].rawValue) { matched += 1 }
        return matched
    }

    /// The number of leading `hashes` that `replica` holds; see
    /// ``longestMatch(of:for:)-(UnsafeBufferPointer<BlockHash>,_)``.
    public func longestMatch(of hashes: [BlockHash], for replica: ReplicaID) -> Int {
        hashes.withUnsafeBufferPointer { longestMatch(of: $0, for: replica) }
    }

    /// The number of leading `hashes` that `replica` holds, found by binary search on the last matching
    /// block: exact whenever the replica's set is prefix-closed (see the type's documentation: it always is,
    /// barring 64-bit collisions), and O(log k) lookups instead of O(m). Does not change recency.
    ///
    /// - Complexity: O(log k) expected for k hashes; no allocation.
    public func prefixClosedMatch(of hashes: UnsafeBufferPointer<BlockHash>, for replica: ReplicaID) -> Int {
        guard let position = positionOfID[replica] else { return 0 }
        // Invariant: hashes[0..<low] held (by closure), hashes[high...] not held.
        var low = 0
        var high = hashes.count
        while low < high {
            let mid = low + (high - low) / 2
            if tables[position].contains(hashes[mid].rawValue) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// The fleet-wide query with llm-d's rule: walk `hashes` in order and stop at the first block that *no*
    /// replica holds; each replica's match is the number of blocks before that point that it holds. Calls
    /// `body(replica, matchedBlocks)` once for every replica in the index (including those matching 0), in
    /// no particular order, and returns the number of blocks walked (the stop position).
    ///
    /// Because each replica's set is prefix-closed (see the type's documentation), a replica's count here
    /// equals its ``longestMatch(of:for:)-(UnsafeBufferPointer<BlockHash>,_)`` unless hash collisions broke
    /// the closure; the rule is kept as llm-d states it.
    ///
    /// - Complexity: O(R · (s + 1)) expected for R replicas and s the returned stop; no heap allocation for
    ///   fleets of up to a few thousand replicas (scratch space on the stack).
    @discardableResult
    @_spi(Internals) public func matches(
        of hashes: UnsafeBufferPointer<BlockHash>,
        _ body: (_ replica: ReplicaID, _ matchedBlocks: Int) -> Void
    ) -> Int {
        let replicas = tables.count
        guard replicas > 0 else { return 0 }
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: replicas) { counts in
            counts.initialize(repeating: 0)
            var stop = 0
            walk: while stop < hashes.count {
                let key = hashes[stop].rawValue
                var anyone = false
                for position in 0..<replicas where tables[position].contains(key) {
                    counts[position] += 1
                    anyone = true
                }
                guard anyone else { break walk }
                stop += 1
            }
            for position in 0..<replicas { body(ids[position], counts[position]) }
            return stop
        }
    }

    /// The fleet-wide query with llm-d's rule; see ``matches(of:_:)-(UnsafeBufferPointer<BlockHash>,_)``.
    @discardableResult
    @_spi(Internals) public func matches(
        of hashes: [BlockHash],
        _ body: (_ replica: ReplicaID, _ matchedBlocks: Int) -> Void
    ) -> Int {
        hashes.withUnsafeBufferPointer { matches(of: $0, body) }
    }

    // MARK: Membership

    /// Forgets everything recorded for `replica` and frees its table. O(1) expected plus freeing.
    ///
    /// - Returns: whether the replica had a table.
    @discardableResult
    public mutating func removeReplica(_ replica: ReplicaID) -> Bool {
        guard let position = positionOfID.removeValue(forKey: replica) else { return false }
        let last = tables.count - 1
        if position != last {
            tables.swapAt(position, last)
            ids.swapAt(position, last)
            positionOfID[ids[position]] = position
        }
        tables.removeLast()
        ids.removeLast()
        return true
    }

    /// Forgets every replica for which `shouldRemove` returns true, e.g. `{ fleet.index(of: $0) == nil }` in
    /// ``RoutingStrategy/fleetDidChange(_:)``. O(R).
    public mutating func removeReplicas(where shouldRemove: (ReplicaID) -> Bool) {
        var position = 0
        while position < ids.count {
            if shouldRemove(ids[position]) {
                removeReplica(ids[position])
            } else {
                position += 1
            }
        }
    }

    /// The hashes held for `replica`, most recently used first (for tests and diagnostics). O(count);
    /// allocates.
    @_spi(Internals) public func hashesFromMostRecent(for replica: ReplicaID) -> [BlockHash] {
        guard let position = positionOfID[replica] else { return [] }
        return tables[position].keysFromNewest.map(BlockHash.init(rawValue:))
    }
}
