/// The claim a routed request holds on its replica's outstanding-request count.
///
/// A ``Router`` increments the chosen replica's outstanding count when it returns a decision; releasing the
/// lease decrements it. Release exactly when the request stops occupying the replica: when the response
/// finishes, fails, or the client goes away (cancellation). Releasing is idempotent: the first call
/// decrements, later calls (on this value or any copy) do nothing. A lease whose replica was removed in the
/// meantime releases without touching the counts of any replica that joined since.
///
/// The type is a small value (a reference and two integers): routing and releasing allocate nothing.
/// Prefer ``Router/withLease(for:at:isolation:_:)``, which releases on every path out of its body.
public struct Lease: Sendable {
    let owner: LeaseLedger
    let entry: UInt32
    let generation: UInt32

    init(owner: LeaseLedger, entry: UInt32, generation: UInt32) {
        self.owner = owner
        self.entry = entry
        self.generation = generation
    }

    /// Releases the lease. Safe to call more than once and from any task; only the first call has an
    /// effect.
    ///
    /// - Returns: `true` if this call released the lease, `false` if it was already released.
    /// - Complexity: O(1); takes the router's lock once.
    @discardableResult
    public func release() -> Bool {
        owner.releaseLease(entry: entry, generation: generation)
    }

    /// Whether the lease is still held (not yet released). A snapshot: another task may release it next.
    public var isHeld: Bool {
        owner.isLeaseHeld(entry: entry, generation: generation)
    }
}

/// The fleet behind its lock: what a ``Lease`` reports back to. Internal so that leases come only from routers.
///
/// A concrete, non-generic class (not a protocol existential over the generic router): releasing a lease is a
/// direct call that runs no generic code, so it needs no runtime metadata or witness-table lookups.
final class LeaseLedger: Sendable {
    /// The fleet. Its lock also guards the owning router's strategy (see ``FleetRouter``).
    let fleet: LockedState<Fleet>

    init(_ fleet: Fleet) { self.fleet = LockedState(fleet) }

    func releaseLease(entry: UInt32, generation: UInt32) -> Bool {
        fleet.withLock { $0.release(entry: entry, generation: generation) }
    }

    func isLeaseHeld(entry: UInt32, generation: UInt32) -> Bool {
        fleet.withLock { $0.isHeld(entry: entry, generation: generation) }
    }
}
