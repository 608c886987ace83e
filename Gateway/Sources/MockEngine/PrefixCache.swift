/// An LRU set of block hashes standing for an engine's cached KV blocks.
///
/// Not thread-safe: it lives inside ``EngineState``, behind the engine's lock.
struct PrefixCache: Sendable {
    private struct Node: Sendable {
        var key: UInt64
        var newer: Int  // towards the most recently used end; -1 at the end
        var older: Int  // towards the least recently used end; -1 at the end
    }

    /// The most blocks kept.
    let capacity: Int
    private var nodes: [Node] = []
    private var index: [UInt64: Int] = [:]
    private var newest = -1
    private var oldest = -1

    /// Creates an empty cache of at most `capacity` blocks (0 caches nothing).
    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// The blocks cached.
    var count: Int { index.count }

    /// Counts the leading blocks of a chain that are cached, and marks them used.
    mutating func matchPrefix(_ hashes: [UInt64]) -> Int {
        var matched = 0
        while matched < hashes.count, index[hashes[matched]] != nil { matched += 1 }
        // Touch the tail first so that the chain's first block ends up most recently used:
        // eviction then takes a chain from its end, keeping the shared prefix longest.
        for position in stride(from: matched - 1, through: 0, by: -1) {
            if let slot = index[hashes[position]] { moveToNewest(slot) }
        }
        return matched
    }

    /// Caches every block of a chain (evicting the least recently used ones when full).
    mutating func insert(_ hashes: [UInt64]) {
        guard capacity > 0 else { return }
        for hash in hashes.reversed() {
            if let slot = index[hash] {
                moveToNewest(slot)
            } else if nodes.count < capacity {
                nodes.append(Node(key: hash, newer: -1, older: -1))
                index[hash] = nodes.count - 1
                linkAsNewest(nodes.count - 1)
            } else {
                let slot = oldest
                unlink(slot)
                index[nodes[slot].key] = nil
                nodes[slot].key = hash
                index[hash] = slot
                linkAsNewest(slot)
            }
        }
    }

    private mutating func moveToNewest(_ slot: Int) {
        guard slot != newest else { return }
        unlink(slot)
        linkAsNewest(slot)
    }

    private mutating func unlink(_ slot: Int) {
        let node = nodes[slot]
        if node.newer >= 0 { nodes[node.newer].older = node.older } else { newest = node.older }
        if node.older >= 0 { nodes[node.older].newer = node.newer } else { oldest = node.newer }
        nodes[slot].newer = -1
        nodes[slot].older = -1
    }

    private mutating func linkAsNewest(_ slot: Int) {
        nodes[slot].older = newest
        nodes[slot].newer = -1
        if newest >= 0 { nodes[newest].newer = slot }
        newest = slot
        if oldest < 0 { oldest = slot }
    }
}
