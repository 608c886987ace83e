/// The claim a routed request holds on its replica's outstanding-request count.
///
/// A ``Router`` increments the chosen replica's outstanding count when it returns a decision; releasing the
/// lease decrements it. Release exactly when the request stops occupying the replica: when the response
/// finishes, fails, or the client goes away (cancellation). Releasing is idempotent: the first call
/// decrements, later calls (on this value or any copy) do nothing. A lease whose replica was removed in the
/// meantime releases without touching the counts of any replica that joined since.
///
/// A lease also carries the request's ``cost`` and can report the end of prefill
/// (``reportFirstToken()``): until then its uncached tokens count as the replica's pending prefill work.
///
/// The type is a small value (a reference and two integers plus the cost): routing and releasing allocate
/// nothing. For work that outlives the scope that routed it (a streamed response body written after the
/// handler returns) wrap it in a ``LeaseHandle``, which releases when dropped; for scoped work use
/// ``Router/withLease(for:excluding:at:isolation:_:)``.
public struct Lease: Sendable {
    let owner: any LeaseOwner
    let entry: UInt32
    let generation: UInt64
    /// The request's prompt and the router's estimate of its uncached part.
    public let cost: LeaseCost

    init(owner: any LeaseOwner, entry: UInt32, generation: UInt64, cost: LeaseCost) {
        self.owner = owner
        self.entry = entry
        self.generation = generation
        self.cost = cost
    }

    /// Creates a lease that runs `onRelease` on its first release, for test doubles and custom ``Router``s.
    ///
    /// Copies share the lease: `onRelease` runs exactly once however many copies are released, and
    /// `onFirstToken` at most once (never after the release).
    ///
    /// - Parameters:
    ///   - cost: what the lease reports as its ``cost``.
    ///   - onFirstToken: runs on the first ``reportFirstToken()`` before the release.
    ///   - onRelease: runs on the first ``release()``.
    /// - Complexity: one allocation (the shared state).
    public init(
        cost: LeaseCost = .zero,
        onFirstToken: (@Sendable () -> Void)? = nil,
        onRelease: @escaping @Sendable () -> Void
    ) {
        self.init(
            owner: CallbackLeaseOwner(onFirstToken: onFirstToken, onRelease: onRelease),
            entry: 0,
            generation: 0,
            cost: cost
        )
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

    /// Reports that the replica produced the request's first token: its prefill is over, so its
    /// ``LeaseCost/uncachedTokens`` no longer count as the replica's pending prefill work. The request stays
    /// outstanding until ``release()``.
    ///
    /// - Returns: `true` if this call ended the prefill, `false` if it was already reported or the lease
    ///   released.
    /// - Complexity: O(1); takes the router's lock once.
    @discardableResult
    public func reportFirstToken() -> Bool {
        owner.reportFirstToken(entry: entry, generation: generation)
    }

    /// Whether the lease is still held (not yet released). A snapshot: another task may release it next.
    public var isHeld: Bool {
        owner.isLeaseHeld(entry: entry, generation: generation)
    }
}

/// What a ``Lease`` reports back to: a router's ledger, or the callbacks of a lease built by a test double.
protocol LeaseOwner: AnyObject, Sendable {
    func releaseLease(entry: UInt32, generation: UInt64) -> Bool
    func reportFirstToken(entry: UInt32, generation: UInt64) -> Bool
    func isLeaseHeld(entry: UInt32, generation: UInt64) -> Bool
}

/// The fleet behind its lock: what a ``FleetRouter``'s leases report back to.
///
/// A concrete, non-generic class: releasing a lease runs no generic code, so it needs no runtime metadata
/// lookups, whatever the router's strategy.
final class LeaseLedger: LeaseOwner {
    /// The fleet. Its lock also guards the owning router's strategy (see ``FleetRouter``).
    let fleet: LockedState<Fleet>

    init(_ fleet: Fleet) { self.fleet = LockedState(fleet) }

    func releaseLease(entry: UInt32, generation: UInt64) -> Bool {
        fleet.withLock { $0.release(entry: entry, generation: generation) }
    }

    func reportFirstToken(entry: UInt32, generation: UInt64) -> Bool {
        fleet.withLock { $0.reportFirstToken(entry: entry, generation: generation) }
    }

    func isLeaseHeld(entry: UInt32, generation: UInt64) -> Bool {
        fleet.withLock { $0.isHeld(entry: entry, generation: generation) }
    }
}

/// The shared state of a ``Lease`` built with ``Lease/init(cost:onFirstToken:onRelease:)``.
final class CallbackLeaseOwner: LeaseOwner {
    private struct State {
        var held = true
        var prefilling = true
    }
    private let state = LockedState(State())
    private let onFirstToken: (@Sendable () -> Void)?
    private let onRelease: @Sendable () -> Void

    init(onFirstToken: (@Sendable () -> Void)?, onRelease: @escaping @Sendable () -> Void) {
        self.onFirstToken = onFirstToken
        self.onRelease = onRelease
    }

    func releaseLease(entry: UInt32, generation: UInt64) -> Bool {
        let released = state.withLock { state in
            defer { state.held = false }
            return state.held
        }
        if released { onRelease() }  // outside the lock: the callback may do anything
        return released
    }

    func reportFirstToken(entry: UInt32, generation: UInt64) -> Bool {
        let reported = state.withLock { state in
            defer { state.prefilling = false }
            return state.held && state.prefilling
        }
        if reported { onFirstToken?() }
        return reported
    }

    func isLeaseHeld(entry: UInt32, generation: UInt64) -> Bool { state.withLock { $0.held } }
}
