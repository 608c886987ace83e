/// When to try a failed item again: exponential backoff with full jitter, bounded, and never sooner than
/// the engine's `Retry-After`; only for answers and failures that another attempt may fix.
public struct BatchRetryPolicy: Sendable, Equatable {
    /// Attempts an item gets in all (the first included); after the last, an error line.
    public var maxAttempts: Int
    /// The backoff's base: attempt n waits up to base × 2^(n−1).
    public var baseMillis: Int64
    /// The backoff's cap.
    public var capMillis: Int64

    /// A policy.
    public init(maxAttempts: Int, baseMillis: Int64, capMillis: Int64) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseMillis = max(1, baseMillis)
        self.capMillis = max(1, capMillis)
    }

    /// Whether an engine status asks for another attempt: 429 (rate limited) and 5xx.
    public static func isRetryable(status: Int) -> Bool { status == 429 || (500..<600).contains(status) }

    /// Whether `attempt` (from 1) may be followed by another.
    public func allowsRetry(after attempt: Int) -> Bool { attempt < maxAttempts }

    /// The delay before the attempt after `attempt`: uniform in [0, min(cap, base·2^(attempt−1))] (full
    /// jitter: failing items spread out instead of returning together), raised to `retryAfterMillis` when
    /// the engine asked for more, and to at least 1 ms.
    public func delayMillis(
        after attempt: Int,
        retryAfterMillis: Int64? = nil,
        using generator: inout some RandomNumberGenerator
    ) -> Int64 {
        let exponent = min(max(0, attempt - 1), 40)
        let (scaled, overflow) = baseMillis.multipliedReportingOverflow(by: Int64(1) << exponent)
        let ceiling = overflow ? capMillis : min(capMillis, scaled)
        let jittered = Int64.random(in: 0...ceiling, using: &generator)
        return max(1, jittered, min(retryAfterMillis ?? 0, capMillis))
    }
}
