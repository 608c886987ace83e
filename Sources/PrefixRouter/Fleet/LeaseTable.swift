/// Bookkeeping that makes every lease release exactly once.
///
/// A generational slab: each live lease occupies an entry; releasing frees the entry and bumps its
/// generation, so a second release of the same ``Lease`` (or a stale copy of it) finds a generation
/// mismatch and does nothing. Freed entries are reused from a stack, so once the table has grown to the peak
/// number of concurrent leases, acquiring and releasing allocate nothing.
///
/// - Complexity: ``acquire(replicaSlot:replicaGeneration:)`` and ``release(entry:generation:)`` are O(1)
///   (amortised for acquire while the table grows).
struct LeaseTable: Sendable {
    struct Entry: Sendable {
        var generation: UInt32
        /// The fleet slot the lease counts against, or -1 when the entry is free.
        var replicaSlot: Int32
        /// The generation of that slot when the lease was taken: a removed-and-reused slot does not match.
        var replicaGeneration: UInt32
    }

    private(set) var entries: [Entry] = []
    private var free: [UInt32] = []

    /// Number of live leases.
    var liveCount: Int { entries.count - free.count }

    mutating func acquire(replicaSlot: Int, replicaGeneration: UInt32) -> (entry: UInt32, generation: UInt32) {
        let index: UInt32
        if let reused = free.popLast() {
            index = reused
        } else {
            index = UInt32(entries.count)
            entries.append(Entry(generation: 0, replicaSlot: -1, replicaGeneration: 0))
        }
        entries[Int(index)].replicaSlot = Int32(replicaSlot)
        entries[Int(index)].replicaGeneration = replicaGeneration
        return (index, entries[Int(index)].generation)
    }

    /// Frees the entry if `generation` matches a live lease; returns the slot and slot generation it counted
    /// against, or nil if it was already released.
    mutating func release(entry: UInt32, generation: UInt32) -> (replicaSlot: Int, replicaGeneration: UInt32)? {
        let index = Int(entry)
        guard index < entries.count, entries[index].generation == generation, entries[index].replicaSlot >= 0
        else { return nil }
        let result = (Int(entries[index].replicaSlot), entries[index].replicaGeneration)
        entries[index].replicaSlot = -1
        entries[index].generation &+= 1
        free.append(entry)
        return result
    }
}
