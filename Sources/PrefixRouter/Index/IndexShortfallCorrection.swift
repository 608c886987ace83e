/// Corrects a ``PrefixIndex`` from engines' `cached_tokens` reports: remembers what the index predicted for
/// each placed request and, when the engine reports fewer cached blocks, forgets as many of the replica's
/// least recently used entries (an LRU trim).
///
/// The reasoning: the engine missed block `h` of a prompt the index believed it held, so the engine's LRU has
/// turned over further than the index's; the entries the index would evict next are the likeliest to be gone
/// too. The request's own blocks are not removed: by the time the report arrives the engine has computed and
/// cached them.
///
/// Predictions are keyed by replica, the prompt's last block hash and its block count; one is consumed by its
/// report. Requests whose report never comes (a gateway that does not report, a failed request) would
/// accumulate, so the table is cleared when it reaches ``capacity`` entries.
///
/// - Complexity: ``predict(_:matchedBlocks:replica:)`` O(1) expected; ``correct(_:cachedTokens:blockSize:replica:)``
///   O(1) expected plus O(shortfall) in the index.
struct IndexShortfallCorrection: Sendable {
    struct Key: Hashable, Sendable {
        var replica: ReplicaID
        var lastBlock: BlockHash
        var blocks: Int
    }

    /// The most predictions kept before the table is cleared.
    static let capacity = 1 << 16

    private var predicted: [Key: Int] = [:]

    /// The number of predictions awaiting a report.
    var pendingCount: Int { predicted.count }

    /// Records that the index predicted `matchedBlocks` leading blocks of `hashes` on `replica`.
    mutating func predict(_ hashes: [BlockHash], matchedBlocks: Int, replica: ReplicaID) {
        guard matchedBlocks > 0, let last = hashes.last else { return }
        if predicted.count >= Self.capacity { predicted.removeAll(keepingCapacity: true) }
        predicted[Key(replica: replica, lastBlock: last, blocks: hashes.count)] = matchedBlocks
    }

    /// Consumes the prediction for a report of `cachedTokens` on `replica` and trims `index` by the shortfall
    /// in blocks, if any. Returns the blocks trimmed.
    @discardableResult
    mutating func correct(
        _ index: inout PrefixIndex,
        hashes: [BlockHash],
        cachedTokens: Int,
        blockSize: Int,
        replica: ReplicaID
    ) -> Int {
        guard let last = hashes.last,
            let expected = predicted.removeValue(forKey: Key(replica: replica, lastBlock: last, blocks: hashes.count))
        else { return 0 }
        let held = Swift.min(hashes.count, Swift.max(0, cachedTokens) / Swift.max(1, blockSize))
        guard held < expected else { return 0 }
        index.removeLeastRecent(expected - held, for: replica)
        return expected - held
    }
}
