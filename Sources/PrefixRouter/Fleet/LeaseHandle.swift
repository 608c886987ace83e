/// An owning lease: releases its ``Lease`` exactly once, when ``release()`` is called or when the last
/// reference to the handle goes away, whichever comes first.
///
/// Use it for work that outlives the scope that routed it. A Hummingbird or Vapor handler returns a response
/// whose body is written *after* the handler returns, so a lease scoped to the handler
/// (``Router/withLease(for:excluding:at:isolation:_:)``) would be released before the first streamed token
/// leaves, and the replica's outstanding count would read zero under load. Give the handle to the body
/// writer instead:
///
/// ```swift
/// guard let decision = router.route(request) else { return overloaded() }
/// let lease = LeaseHandle(decision.lease)
/// return Response(status: .ok, body: ResponseBody { writer in
///     // `lease` is captured: it lives as long as the body writer.
///     for try await chunk in upstream.stream(to: decision.replica) {
///         if isFirstToken(chunk) { lease.reportFirstToken() }
///         try await writer.write(chunk)
///     }
///     lease.release()  // normal end; a thrown error, a client disconnect or a cancelled task drops the
///                      // closure, and with it the handle, which releases then.
///     try await writer.finish(nil)
/// })
/// ```
///
/// Every path out releases: the normal end (explicit ``release()``), an error thrown by the upstream or the
/// writer, a cancelled task, and a handle dropped without an explicit release (`deinit`). A ``Lease`` value
/// stays the allocation-free choice for scoped work; a handle costs one allocation.
///
/// A `~Copyable` lease cannot play this role: it cannot be consumed from an escaping `@Sendable` closure such
/// as a response body writer.
public final class LeaseHandle: Sendable {
    /// The lease this handle owns.
    public let lease: Lease

    /// Takes ownership of `lease`: it is released when this handle is released or deinitialised.
    public init(_ lease: Lease) { self.lease = lease }

    deinit { lease.release() }

    /// The request's cost (see ``Lease/cost``).
    public var cost: LeaseCost { lease.cost }

    /// Releases the lease now; later calls, and the handle's deinitialisation, do nothing.
    ///
    /// - Returns: `true` if this call released the lease.
    /// - Complexity: O(1).
    @discardableResult
    public func release() -> Bool { lease.release() }

    /// Reports the request's first token (see ``Lease/reportFirstToken()``).
    ///
    /// - Returns: `true` if this call ended the prefill.
    @discardableResult
    public func reportFirstToken() -> Bool { lease.reportFirstToken() }

    /// Whether the lease is still held.
    public var isHeld: Bool { lease.isHeld }
}
