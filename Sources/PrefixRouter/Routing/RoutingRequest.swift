/// What a router knows about a request when it places it: what a real gateway sees, no more.
public struct RoutingRequest: Sendable {
    /// The prompt's chained block hashes, in prompt order (see ``PrefixHasher``). Empty when the request has
    /// no usable prefix (too short, or not hashed).
    public var blockHashes: [BlockHash]
    /// Tokens per block of ``blockHashes`` (so that strategies can reason in tokens). At least 1.
    public var blockSize: Int
    /// Prompt length in tokens (or estimated tokens).
    public var tokenCount: Int
    /// A session or conversation key, if the client sent one (for ``Sticky``).
    public var sessionKey: String?

    /// Describes a request.
    ///
    /// - Parameters:
    ///   - blockHashes: the prompt's chained block hashes, in prompt order.
    ///   - blockSize: tokens per block; values below 1 are treated as 1.
    ///   - tokenCount: prompt length in tokens; defaults to `blockHashes.count × blockSize`, saturating at
    ///     ``LeaseCost/maximumTokens`` (a lease clamps any count to that range too).
    ///   - sessionKey: an optional session key.
    public init(blockHashes: [BlockHash] = [], blockSize: Int = 16, tokenCount: Int? = nil, sessionKey: String? = nil) {
        let blockSize = Swift.max(1, blockSize)
        self.blockHashes = blockHashes
        self.blockSize = blockSize
        if let tokenCount {
            self.tokenCount = tokenCount
        } else {
            let (product, overflow) = blockHashes.count.multipliedReportingOverflow(by: blockSize)
            self.tokenCount = overflow ? LeaseCost.maximumTokens : Swift.min(product, LeaseCost.maximumTokens)
        }
        self.sessionKey = sessionKey
    }
}
