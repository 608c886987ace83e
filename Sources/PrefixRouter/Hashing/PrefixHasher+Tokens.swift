extension PrefixHasher {
    /// Hashes the blocks of `tokens` into a caller-provided buffer.
    ///
    /// Writes `min(blockCount(forTokenCount: tokens.count), output.count)` hashes to the front of `output`
    /// and returns that count; hashing stops once `output` is full, so a buffer of *k* entries costs only the
    /// first *k* blocks. On little-endian hosts the tokens are hashed in place (no copy, no allocation); on
    /// big-endian hosts each block is byte-swapped into one temporary buffer first.
    ///
    /// - Complexity: O(min(n, k·B)) for n tokens and a buffer of k entries.
    public func hashBlocks(
        _ tokens: UnsafeBufferPointer<UInt32>,
        into output: UnsafeMutableBufferPointer<BlockHash>
    ) -> Int {
        #if _endian(little)
        return chainBytes(UnsafeRawBufferPointer(tokens), chunk: blockSize * 4, into: output)
        #else
        return hashStaged(tokens, count: tokens.count, into: output)
        #endif
    }

    /// The block hashes of `tokens`, in prompt order. One array allocation.
    ///
    /// - Complexity: O(n) for n tokens.
    public func blockHashes(of tokens: UnsafeBufferPointer<UInt32>) -> [BlockHash] {
        Self.collect(capacity: blockCount(forTokenCount: tokens.count)) { hashBlocks(tokens, into: $0) }
    }

    /// The block hashes of `tokens`, in prompt order. Hashes the array's storage in place; one array
    /// allocation (the result).
    ///
    /// - Complexity: O(n) for n tokens.
    public func blockHashes(of tokens: [UInt32]) -> [BlockHash] {
        tokens.withUnsafeBufferPointer { blockHashes(of: $0) }
    }

    /// The block hashes of any collection of token ids (an `ArraySlice`, a `ContiguousArray`, a `Deque`…).
    ///
    /// Contiguous storage is hashed in place. Other collections are streamed block by block through one
    /// temporary buffer of ``blockSize`` tokens, never copied whole. One array allocation (the result).
    ///
    /// - Complexity: O(n) for n tokens (plus O(n) for `count` on collections that are not random-access).
    @inlinable
    public func blockHashes(of tokens: some Collection<UInt32>) -> [BlockHash] {
        if let hashes = tokens.withContiguousStorageIfAvailable({ blockHashes(of: $0) }) {
            return hashes
        }
        let count = tokens.count
        return Self.collect(capacity: blockCount(forTokenCount: count)) { hashStaged(tokens, count: count, into: $0) }
    }

    /// The block hashes of token ids decoded from JSON as `Int`s.
    ///
    /// - Throws: ``PrefixRouterError`` with code `.invalidInput` naming the first index whose id is negative or
    ///   above `UInt32.max` (for example `tokens[17]: expected a token id in 0...4294967295, found -3`).
    /// - Complexity: O(n) for n tokens; validates, then streams the ids through one temporary buffer of
    ///   ``blockSize`` tokens (no copy of the whole prompt). One array allocation (the result).
    public func blockHashes(of tokens: [Int]) throws(PrefixRouterError) -> [BlockHash] {
        for (index, token) in tokens.enumerated() where UInt32(exactly: token) == nil {
            throw PrefixRouterError(
                .invalidInput,
                "tokens[\(index)]: expected a token id in 0...\(UInt32.max), found \(token)"
            )
        }
        let ids = tokens.lazy.map { UInt32(truncatingIfNeeded: $0) }
        return Self.collect(capacity: blockCount(forTokenCount: tokens.count)) {
            hashStaged(ids, count: tokens.count, into: $0)
        }
    }

    /// Hashes `count` tokens from `tokens` by copying each block, as little-endian bytes, into one temporary
    /// buffer of ``blockSize`` tokens. The portable path: big-endian hosts and non-contiguous collections.
    /// Produces exactly the hashes of the in-place path. O(n), one temporary allocation per call at most.
    /// Inlinable so that clients' collection types get a specialized loop, not per-token witness calls.
    @inlinable
    func hashStaged<Tokens: Sequence<UInt32>>(
        _ tokens: Tokens,
        count: Int,
        into output: UnsafeMutableBufferPointer<BlockHash>
    ) -> Int {
        let limit = Swift.min(blockCount(forTokenCount: count), output.count)
        guard limit > 0 else { return 0 }
        let blockSize = self.blockSize
        return withUnsafeTemporaryAllocation(of: UInt32.self, capacity: blockSize) { block in
            var seed = root
            var written = 0
            var filled = 0
            for token in tokens {
                block[filled] = token.littleEndian
                filled += 1
                if filled == blockSize {
                    seed = XXH3.hash(UnsafeRawBufferPointer(block), seed: seed)
                    output[written] = BlockHash(seed)
                    written += 1
                    filled = 0
                    if written == limit { return written }
                }
            }
            // The partial tail, when the tail policy admitted it (it is then within `limit`).
            if filled > 0, written < limit {
                let bytes = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(block)[..<(filled * 4)])
                output[written] = BlockHash(XXH3.hash(bytes, seed: seed))
                written += 1
            }
            return written
        }
    }
}
