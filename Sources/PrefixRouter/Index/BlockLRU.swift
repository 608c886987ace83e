/// A bounded set of block hashes with least-recently-used eviction: one replica's part of a ``PrefixIndex``.
///
/// Storage is arrays only, so that a warm table never allocates:
/// - **Nodes** (`keys`, `older`, `newer`): one per stored hash, linked into an intrusive doubly-linked recency
///   list by 32-bit node numbers (−1 is "none"). 16 bytes per node. Nodes are created up to ``capacity`` and
///   then recycled: inserting into a full table unlinks the least recent node and reuses it.
/// - **Slots** (`slotKeys`, `slotNodes`): an open-addressing hash table with linear probing, mapping a hash to
///   its node. 12 bytes per slot; the slot count is a power of two kept at or above 4/3 of the node count
///   (load factor at most 0.75). Removal uses backward-shift deletion, so there are no tombstones and probe
///   lengths do not degrade over time.
///
/// Both grow geometrically (doubling) until the capacity is reached, then never again.
///
/// - Complexity: ``touch(_:)`` and ``contains(_:)`` are O(1) expected; growth is amortised O(1).
struct BlockLRU: Sendable {
    /// The most hashes held.
    let capacity: Int
    /// Node storage. `keys.count` is the number of nodes created so far (≤ `nodeLimit`).
    private var keys: [UInt64] = []
    /// Next older node in the recency list, or −1.
    private var older: [Int32] = []
    /// Next newer node in the recency list, or −1.
    private var newer: [Int32] = []
    /// Nodes reserved so far (the arrays' reserved length, ≤ capacity).
    private(set) var nodeLimit = 0
    /// Most recently used node, or −1.
    private var newest: Int32 = -1
    /// Least recently used node, or −1.
    private var oldest: Int32 = -1
    private var slotKeys: [UInt64] = []
    /// The node stored in each slot, or −1 for an empty slot.
    private var slotNodes: [Int32] = []
    private var slotShift = 64
    /// Nodes freed by ``removeOldest(_:)``, reused before new ones are created.
    private var freeNodes: [Int32] = []

    /// Creates an empty table; nothing is allocated until the first insertion. `capacity` must be at least 1
    /// and below 2^31 (``PrefixIndex`` validates it).
    init(capacity: Int) {
        self.capacity = capacity
    }

    /// The number of hashes held.
    var count: Int { keys.count - freeNodes.count }

    /// The number of hash-table slots currently allocated.
    var slotCount: Int { slotNodes.count }

    /// The smallest power of two `t` with `3t ≥ 4n` (and at least 8): the slot count for `n` nodes.
    static func slotCount(forNodes nodes: Int) -> Int {
        var slots = 8
        while slots * 3 < nodes * 4 { slots <<= 1 }
        return slots
    }

    /// Bytes held by the arrays' elements at the moment: 16 per reserved node, 12 per slot.
    var elementBytes: Int { nodeLimit * 16 + slotNodes.count * 12 }

    @inline(__always)
    private func home(of key: UInt64) -> Int {
        // Fibonacci hashing: spreads sequential or otherwise structured keys over the table.
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> UInt64(slotShift))
    }

    /// The slot holding `key`, or nil.
    @inline(__always)
    private func slot(of key: UInt64) -> Int? {
        guard !slotNodes.isEmpty else { return nil }
        let mask = slotNodes.count - 1
        var slot = home(of: key)
        while true {
            let node = slotNodes[slot]
            if node < 0 { return nil }
            if slotKeys[slot] == key { return slot }
            slot = (slot + 1) & mask
        }
    }

    /// Whether `key` is held. Does not change recency. O(1) expected.
    @inline(__always)
    func contains(_ key: UInt64) -> Bool { slot(of: key) != nil }

    /// The node number holding `key`, or nil. Does not change recency. O(1) expected.
    ///
    /// Node numbers are in `0..<count` and stay attached to a key while it is held, so callers may keep a
    /// payload per key in arrays indexed by node number (``SessionTable`` does).
    @inline(__always)
    func node(of key: UInt64) -> Int32? { slot(of: key).map { slotNodes[$0] } }

    /// Marks node `node` (from ``node(of:)`` or ``touch(_:)``) most recently used. O(1).
    mutating func markMostRecent(_ node: Int32) { moveToNewest(node) }

    /// Marks `key` most recently used, inserting it (and evicting the least recent hash if full). O(1)
    /// expected; allocation-free once the table has reached its capacity.
    ///
    /// - Returns: the node number now holding `key`: its existing node, a node freed by ``removeOldest(_:)``,
    ///   a new node numbered `count - 1` (always, for a table nothing was removed from), or, when the table
    ///   was full, the node of the evicted least recent hash, reused.
    @discardableResult
    mutating func touch(_ key: UInt64) -> Int32 {
        if let slot = slot(of: key) {
            let node = slotNodes[slot]
            moveToNewest(node)
            return node
        }
        let node: Int32
        if let free = freeNodes.popLast() {
            node = free
            keys[Int(node)] = key
        } else if keys.count < capacity {
            if keys.count == nodeLimit { grow() }
            node = Int32(keys.count)
            keys.append(key)
            older.append(-1)
            newer.append(-1)
        } else {
            node = oldest
            unlink(node)
            removeSlot(of: keys[Int(node)])
            keys[Int(node)] = key
        }
        linkAsNewest(node)
        insertSlot(key, node: node)
        return node
    }

    /// Removes the `count` least recently used hashes (all of them if fewer are held); their nodes are reused
    /// by later insertions. O(count) expected; allocates only to grow the free-node list.
    mutating func removeOldest(_ count: Int) {
        var left = Swift.min(Swift.max(0, count), self.count)
        while left > 0, oldest >= 0 {
            let node = oldest
            unlink(node)
            removeSlot(of: keys[Int(node)])
            freeNodes.append(node)
            left -= 1
        }
    }

    /// The held hashes from the most to the least recently used (for tests and diagnostics). O(count).
    var keysFromNewest: [UInt64] {
        var result: [UInt64] = []
        result.reserveCapacity(keys.count)
        var node = newest
        while node >= 0 {
            result.append(keys[Int(node)])
            node = older[Int(node)]
        }
        return result
    }

    // MARK: Recency list

    private mutating func unlink(_ node: Int32) {
        let n = Int(node)
        let o = older[n]
        let w = newer[n]
        if o >= 0 { newer[Int(o)] = w } else { oldest = w }
        if w >= 0 { older[Int(w)] = o } else { newest = o }
        older[n] = -1
        newer[n] = -1
    }

    private mutating func linkAsNewest(_ node: Int32) {
        let n = Int(node)
        older[n] = newest
        newer[n] = -1
        if newest >= 0 { newer[Int(newest)] = node } else { oldest = node }
        newest = node
    }

    private mutating func moveToNewest(_ node: Int32) {
        guard node != newest else { return }
        unlink(node)
        linkAsNewest(node)
    }

    // MARK: Hash table

    private mutating func insertSlot(_ key: UInt64, node: Int32) {
        let mask = slotNodes.count - 1
        var slot = home(of: key)
        while slotNodes[slot] >= 0 { slot = (slot + 1) & mask }
        slotKeys[slot] = key
        slotNodes[slot] = node
    }

    /// Backward-shift deletion: later entries of the probe run move up so that no lookup breaks.
    private mutating func removeSlot(of key: UInt64) {
        guard var hole = slot(of: key) else { return }
        let mask = slotNodes.count - 1
        var next = hole
        while true {
            next = (next + 1) & mask
            guard slotNodes[next] >= 0 else { break }
            let wanted = home(of: slotKeys[next])
            // The entry at `next` may fill the hole unless its home lies cyclically in (hole, next].
            let staysPut = hole <= next ? (hole < wanted && wanted <= next) : (hole < wanted || wanted <= next)
            if staysPut { continue }
            slotKeys[hole] = slotKeys[next]
            slotNodes[hole] = slotNodes[next]
            hole = next
        }
        slotNodes[hole] = -1
    }

    /// Doubles the node reservation (up to the capacity) and rebuilds the hash table at the matching size.
    private mutating func grow() {
        let nodes = Swift.min(capacity, Swift.max(64, nodeLimit * 2))
        keys.reserveCapacity(nodes)
        older.reserveCapacity(nodes)
        newer.reserveCapacity(nodes)
        nodeLimit = nodes
        let slots = BlockLRU.slotCount(forNodes: nodes)
        guard slots != slotNodes.count else { return }
        slotKeys = Array(repeating: 0, count: slots)
        slotNodes = Array(repeating: -1, count: slots)
        slotShift = 64 - slots.trailingZeroBitCount
        for node in keys.indices { insertSlot(keys[node], node: Int32(node)) }
    }
}
