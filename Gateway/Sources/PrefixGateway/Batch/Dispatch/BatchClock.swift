import Foundation
import NIOConcurrencyHelpers

/// The queue's notion of now, in milliseconds since 1970: the wall clock, or a test's own.
public protocol BatchClock: Sendable {
    /// Now, in milliseconds since 1970.
    func nowMillis() -> Int64
}

/// The system's wall clock (shared by every gateway on a queue, so keep their clocks in sync, e.g. NTP).
public struct SystemBatchClock: BatchClock {
    /// The wall clock.
    public init() {}

    public func nowMillis() -> Int64 { Int64((Date().timeIntervalSince1970 * 1_000).rounded(.down)) }
}

/// A clock a test sets and advances.
public final class ManualBatchClock: BatchClock {
    private let now: NIOLockedValueBox<Int64>

    /// A clock at `millis`.
    public init(_ millis: Int64 = 1_750_000_000_000) { now = NIOLockedValueBox(millis) }

    public func nowMillis() -> Int64 { now.withLockedValue { $0 } }

    /// Moves the clock forward.
    public func advance(millis: Int64) { now.withLockedValue { $0 += millis } }
}
