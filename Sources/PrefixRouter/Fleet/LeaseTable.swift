/// Bookkeeping that makes every lease release exactly once.
///
/// A generational slab: each live lease occupies an entry; releasing frees the entry and bumps its
/// generation, so a second release of the same ``Lease`` (or a stale copy of it) finds a generation
/// mismatch and does nothing. Generations are 64-bit, so a stale lease can never meet its own generation
/// again (2^64 reuses of one entry would take centuries at any request rate). Freed entries are reused from a
/// stack, so once the table has grown to the peak number of concurrent leases, acquiring and releasing
/// allocate nothing.
///
/// - Complexity: ``acquire(replicaSlot:replicaGeneration:cost:)``, ``release(entry:generation:)`` and
///   ``reportFirstToken(entry:generation:)`` are O(1) (amortised for acquire while the table grows).
struct LeaseTable: Sendable {
    struct Entry: Sendable {
        var generation: UInt64
        /// The generation of the fleet slot when the lease was taken: a removed-and-reused slot does not match.
        var replicaGeneration: UInt64
        /// The fleet slot the lease counts against, or -1 when the entry is free.
        var replicaSlot: Int32
        /// Whether the request's prefill is still pending (no first token reported).
        var prefilling: Bool
        var cost: LeaseCost
    }

    /// What a released or first-token lease counted against.
    struct Charge {
        var replicaSlot: Int
        var replicaGeneration: UInt64
        var cost: LeaseCost
        var wasPrefilling: Bool
    }

    private(set) var entries: [Entry] = []
    private var free: [UInt32] = []

    /// Number of live leases.
    var liveCount: Int { entries.count - free.count }

    mutating func acquire(
        replicaSlot: Int,
        replicaGeneration: UInt64,
        cost: LeaseCost
    ) -> (
        entry: UInt32, generation: UInt64
    ) {
        let index: UInt32
        if let reused = free.popLast() {
            index = reused
        } else {
            index = UInt32(truncatingIfNeeded: entries.count)
            entries.append(Entry(generation: 0, replicaGeneration: 0, replicaSlot: -1, prefilling: false, cost: .zero))
        }
        let position = Int(index)
        entries[position].replicaSlot = Int32(truncatingIfNeeded: replicaSlot)
        entries[position].replicaGeneration = replicaGeneration
        entries[position].prefilling = true
        entries[position].cost = cost
        return (index, entries[position].generation)
    }

    /// Frees the entry if `generation` matches a live lease; returns what it counted against, or nil if it was
    /// already released.
    mutating func release(entry: UInt32, generation: UInt64) -> Charge? {
        let index = Int(entry)
        guard isLive(index, generation) else { return nil }
        let charge = Charge(
            replicaSlot: Int(entries[index].replicaSlot),
            replicaGeneration: entries[index].replicaGeneration,
            cost: entries[index].cost,
            wasPrefilling: entries[index].prefilling
        )
        entries[index].replicaSlot = -1
        entries[index].prefilling = false
        entries[index].generation &+= 1
        free.append(entry)
        return charge
    }

    /// Ends the prefill of a live lease; returns what it counted against, or nil if the lease was released or
    /// its prefill already ended.
    mutating func reportFirstToken(entry: UInt32, generation: UInt64) -> Charge? {
        let index = Int(entry)
        guard isLive(index, generation), entries[index].prefilling else { return nil }
        entries[index].prefilling = false
        return Charge(
            replicaSlot: Int(entries[index].replicaSlot),
            replicaGeneration: entries[index].replicaGeneration,
            cost: entries[index].cost,
            wasPrefilling: true
        )
    }

    func isLive(_ index: Int, _ generation: UInt64) -> Bool {
        index < entries.count && entries[index].generation == generation && entries[index].replicaSlot >= 0
    }
}
