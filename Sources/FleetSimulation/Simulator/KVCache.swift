import PrefixRouter

/// One replica's prefix cache: a fixed number of KV blocks, LRU eviction with prefix semantics.
///
/// - A request's *hit* is the longest run of its leading blocks that are resident and computed
///   (``Lookup/readyBlocks``). Resident blocks still being computed for a concurrent request (the same
///   prefill step) extend ``Lookup/presentBlocks`` but are not hits: the simulator counts them apart.
/// - Blocks of running requests are *pinned* (reference-counted) and never evicted. When a request
///   finishes its blocks become evictable, appended to the LRU list from the last block to the first, so
///   that a prompt's tail is evicted before its head (as vLLM's free-block queue does).
/// - Anonymous blocks (the unhashed part of a prompt: a partial tail, or a whole prompt of a trace without
///   prefix information) occupy memory while the request runs and are never cached.
///
/// Memory: about 32 bytes per resident block plus a dictionary entry.
///
/// - Complexity: lookups and admission O(blocks of the request) expected; eviction O(1) per block.
struct KVCache {
    struct Entry {
        var hash: BlockHash
        var pins: Int32
        var previous: Int32
        var next: Int32
        /// The time the block's content is computed (the end of the prefill step that wrote it).
        var readyAt: Double
    }

    /// What a request would find in the cache.
    struct Lookup {
        /// Leading blocks resident and computed: the hit.
        var readyBlocks: Int
        /// Leading blocks resident, computed or not.
        var presentBlocks: Int
        /// Blocks that admitting the request would newly pin (absent, unpinned resident, anonymous).
        var newPins: Int
    }

    /// Total blocks, or `Int.max` for an unbounded cache.
    let capacity: Int
    private var entries: [Entry] = []
    private var freeEntries: [Int32] = []
    private var slotOfHash: [BlockHash: Int32] = [:]
    private var lruHead: Int32 = -1
    private var lruTail: Int32 = -1
    /// Blocks pinned by running requests (distinct hashed blocks plus anonymous blocks).
    private(set) var pinnedBlocks = 0
    /// Resident hashed blocks (pinned or evictable).
    private(set) var residentBlocks = 0
    private var anonymousBlocks = 0

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Blocks in use (resident hashed blocks plus anonymous ones).
    var usedBlocks: Int { residentBlocks + anonymousBlocks }

    /// What `hashes` (plus `anonymous` unhashed blocks) would find at time `now`. O(hashes) expected.
    func lookup(_ hashes: [BlockHash], anonymous: Int, now: Double) -> Lookup {
        var ready = 0
        var present = 0
        var newPins = anonymous
        var leading = true
        var readyLeading = true
        for hash in hashes {
            if let slot = slotOfHash[hash] {
                let entry = entries[Int(slot)]
                if entry.pins == 0 { newPins += 1 }
                if leading {
                    present += 1
                    if readyLeading, entry.readyAt <= now { ready += 1 } else { readyLeading = false }
                }
            } else {
                leading = false
                readyLeading = false
                newPins += 1
            }
        }
        return Lookup(readyBlocks: ready, presentBlocks: present, newPins: newPins)
    }

    /// Whether a request needing `newPins` more pinned blocks fits next to the running ones. O(1).
    func fits(newPins: Int) -> Bool { newPins <= capacity - pinnedBlocks }

    /// Pins the request's blocks, inserting absent ones (computed at `readyAt`) and evicting LRU blocks to
    /// make room. When the cache is too small even with nothing evictable left (an oversized request
    /// admitted alone), the blocks that do not fit are simply not cached.
    ///
    /// - Returns: the pinned entries (pass them to ``release(_:anonymous:)``) and the anonymous blocks held.
    mutating func admit(_ hashes: [BlockHash], anonymous: Int, readyAt: Double) -> (entries: [Int32], anonymous: Int) {
        var pinned: [Int32] = []
        pinned.reserveCapacity(hashes.count)
        for hash in hashes {
            if let slot = slotOfHash[hash] {
                if entries[Int(slot)].pins == 0 {
                    unlink(slot)
                    pinnedBlocks += 1
                }
                entries[Int(slot)].pins += 1
                pinned.append(slot)
                continue
            }
            guard makeRoom() else { continue }
            let slot = allocate(Entry(hash: hash, pins: 1, previous: -1, next: -1, readyAt: readyAt))
            slotOfHash[hash] = slot
            residentBlocks += 1
            pinnedBlocks += 1
            pinned.append(slot)
        }
        var held = 0
        while held < anonymous, makeRoom() {
            held += 1
            anonymousBlocks += 1
            pinnedBlocks += 1
        }
        return (pinned, held)
    }

    /// Unpins a finished request's blocks (last block first into the LRU list) and frees its anonymous
    /// blocks. O(blocks).
    mutating func release(_ pinned: [Int32], anonymous: Int) {
        for slot in pinned.reversed() {
            entries[Int(slot)].pins -= 1
            if entries[Int(slot)].pins == 0 {
                pinnedBlocks -= 1
                append(slot)
            }
        }
        anonymousBlocks -= anonymous
        pinnedBlocks -= anonymous
    }

    /// Frees one block if the cache is full; false when every block is pinned.
    private mutating func makeRoom() -> Bool {
        guard usedBlocks >= capacity else { return true }
        guard lruHead >= 0 else { return false }
        let victim = lruHead
        unlink(victim)
        slotOfHash[entries[Int(victim)].hash] = nil
        freeEntries.append(victim)
        residentBlocks -= 1
        return true
    }

    private mutating func allocate(_ entry: Entry) -> Int32 {
        if let slot = freeEntries.popLast() {
            entries[Int(slot)] = entry
            return slot
        }
        entries.append(entry)
        return Int32(entries.count - 1)
    }

    private mutating func append(_ slot: Int32) {
        entries[Int(slot)].previous = lruTail
        entries[Int(slot)].next = -1
        if lruTail >= 0 { entries[Int(lruTail)].next = slot } else { lruHead = slot }
        lruTail = slot
    }

    private mutating func unlink(_ slot: Int32) {
        let entry = entries[Int(slot)]
        if entry.previous >= 0 { entries[Int(entry.previous)].next = entry.next } else { lruHead = entry.next }
        if entry.next >= 0 { entries[Int(entry.next)].previous = entry.previous } else { lruTail = entry.previous }
        entries[Int(slot)].previous = -1
        entries[Int(slot)].next = -1
    }

    /// Marks freshly written entries as computed at `time` (the end of their prefill step).
    mutating func setReady(_ pinned: ArraySlice<Int32>, at time: Double) {
        for slot in pinned where entries[Int(slot)].readyAt > time { entries[Int(slot)].readyAt = time }
    }
}
