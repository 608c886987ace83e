import Synchronization

/// The global in-flight cap: a counter taken with try-acquire, never a queue. A request that finds it full
/// is answered 429 at once; queueing belongs to the engines (and to a job queue for batch work).
final class AdmissionGate: Sendable {
    /// The cap.
    let limit: Int
    private let inFlight = Atomic<Int>(0)

    init(limit: Int) { self.limit = max(1, limit) }

    /// Takes a slot if one is free; never waits.
    func tryAcquire() -> Bool {
        var current = inFlight.load(ordering: .relaxed)
        while current < limit {
            let (exchanged, original) = inFlight.compareExchange(
                expected: current,
                desired: current + 1,
                ordering: .acquiring
            )
            if exchanged { return true }
            current = original
        }
        return false
    }

    /// Takes a slot only if `keepingFree` slots stay free afterwards (batch work, which must leave the
    /// interactive reserve alone); never waits.
    func tryAcquire(keepingFree reserve: Int) -> Bool {
        let ceiling = limit - max(0, reserve)
        var current = inFlight.load(ordering: .relaxed)
        while current < ceiling {
            let (exchanged, original) = inFlight.compareExchange(
                expected: current,
                desired: current + 1,
                ordering: .acquiring
            )
            if exchanged { return true }
            current = original
        }
        return false
    }

    /// Returns a slot.
    func release() { inFlight.subtract(1, ordering: .releasing) }

    /// Slots taken now.
    var current: Int { inFlight.load(ordering: .relaxed) }
}

/// One admitted request's slot in the ``AdmissionGate``: returned exactly once, by ``release()`` or, on any
/// path that never reaches it (a thrown error, a dropped response), when the ticket is deinitialised.
final class AdmissionTicket: Sendable {
    private let gate: AdmissionGate
    private let held = Atomic<Bool>(true)

    /// Takes a slot, or returns nil when the gate is full.
    init?(_ gate: AdmissionGate) {
        guard gate.tryAcquire() else { return nil }
        self.gate = gate
    }

    /// Returns the slot; later calls do nothing.
    ///
    /// - Returns: whether this call returned it.
    @discardableResult
    func release() -> Bool {
        guard held.exchange(false, ordering: .acquiringAndReleasing) else { return false }
        gate.release()
        return true
    }

    deinit { release() }
}
