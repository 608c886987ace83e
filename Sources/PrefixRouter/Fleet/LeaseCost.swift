/// What a leased request costs its replica: its prompt, and the part of it the router expects the replica to
/// prefill (the tokens not already in its prefix cache).
///
/// A ``FleetRouter`` adds each lease's cost to its replica while the lease is held
/// (``Fleet/outstandingTokens(of:)``) and its uncached tokens until the lease reports its first token or is
/// released (``Fleet/pendingPrefillTokens(of:)``), so that strategies can count load in prefill work as
/// well as in requests.
///
/// Token counts are clamped to `0...maximumTokens`, so sums over any realistic number of leases cannot
/// overflow, whatever a request claims.
public struct LeaseCost: Hashable, Sendable {
    /// The largest token count a cost holds (2^32); larger values are clamped to it.
    public static let maximumTokens = 1 << 32

    /// The request's prompt length in tokens.
    public let promptTokens: Int
    /// The router's estimate of the prompt tokens the replica must prefill (not already cached); at most
    /// ``promptTokens``.
    public let uncachedTokens: Int

    /// Creates a cost.
    ///
    /// - Parameters:
    ///   - promptTokens: the prompt length; clamped to `0...maximumTokens`.
    ///   - cachedTokens: the router's estimate of the prompt tokens the replica already holds, or nil when it
    ///     has none (then every prompt token counts as uncached); clamped to `0...promptTokens`.
    public init(promptTokens: Int = 0, cachedTokens: Int? = nil) {
        let prompt = Swift.min(Swift.max(0, promptTokens), LeaseCost.maximumTokens)
        let cached = Swift.min(Swift.max(0, cachedTokens ?? 0), prompt)
        self.promptTokens = prompt
        self.uncachedTokens = prompt - cached
    }

    /// No cost (a request of unknown size).
    public static let zero = LeaseCost()
}
