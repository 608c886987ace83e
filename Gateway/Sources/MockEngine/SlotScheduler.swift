/// vLLM's admission model: at most `maxRunning` sequences hold a running slot; the others wait, ordered by
/// `priority` (lower first, as vLLM's priority scheduling) and then by arrival. There is no preemption.
///
/// Not thread-safe: it lives inside ``EngineState``, behind the engine's lock. Continuations it hands back
/// must be resumed after the lock is released.
struct SlotScheduler: Sendable {
    /// A request waiting for a slot.
    struct Waiter: Sendable {
        /// The request's arrival number: unique, and the tie-breaker between equal priorities.
        let ticket: Int
        /// vLLM's priority; lower runs first.
        let priority: Int
        /// Resumed with success when the slot is handed over, with an error when the wait is cancelled.
        let continuation: CheckedContinuation<Void, any Error>
    }

    /// The most sequences running at once.
    let maxRunning: Int
    /// Sequences holding a slot.
    private(set) var running = 0
    /// Waiters in admission order: ascending priority, then ascending ticket.
    private var waiters: [Waiter] = []

    /// Creates a scheduler with `maxRunning` slots (at least one).
    init(maxRunning: Int) {
        self.maxRunning = max(1, maxRunning)
    }

    /// Sequences waiting for a slot.
    var waiting: Int { waiters.count }

    /// Takes a free slot if nobody waits (returns true), or queues the waiter (returns false).
    mutating func admitOrEnqueue(_ waiter: Waiter) -> Bool {
        if running < maxRunning && waiters.isEmpty {
            running += 1
            return true
        }
        let position = insertionPoint(priority: waiter.priority, ticket: waiter.ticket)
        waiters.insert(waiter, at: position)
        return false
    }

    /// Removes a waiter whose wait was cancelled; nil when it was already admitted.
    mutating func removeWaiter(ticket: Int) -> Waiter? {
        guard let position = waiters.firstIndex(where: { $0.ticket == ticket }) else { return nil }
        return waiters.remove(at: position)
    }

    /// Gives a slot back: hands it to the first waiter (returned, to be resumed) or frees it.
    mutating func release() -> Waiter? {
        if waiters.isEmpty {
            running = max(0, running - 1)
            return nil
        }
        return waiters.removeFirst()
    }

    private func insertionPoint(priority: Int, ticket: Int) -> Int {
        var low = 0
        var high = waiters.count
        while low < high {
            let middle = (low + high) / 2
            let other = waiters[middle]
            if (other.priority, other.ticket) < (priority, ticket) { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
