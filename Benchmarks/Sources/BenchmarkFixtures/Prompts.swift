public import PrefixRouter

/// Seeded synthetic prompts: token ids, and requests whose block hashes are already computed.
public enum Prompts {
    /// `count` token ids below a 128k vocabulary, reproducible from `seed`.
    public static func tokens(count: Int, seed: UInt64) -> [UInt32] {
        var random = RandomSource(seed: seed)
        return (0..<count).map { _ in UInt32(truncatingIfNeeded: random.next(below: 128_000)) }
    }

    /// `count` prehashed requests of `tokenCount` tokens in blocks of `blockSize`, reproducible from `seed`.
    ///
    /// The block hashes are random 64-bit values: the router only compares and looks them up, so their
    /// provenance does not change its cost. With `sessions`, each request carries one of that many session
    /// keys (`session-N`), for ``Sticky``.
    public static func prehashedRequests(
        count: Int, tokenCount: Int = 2_048, blockSize: Int = 16, sessions: Int? = nil, seed: UInt64
    ) -> [RoutingRequest] {
        var random = RandomSource(seed: seed)
        let blocks = tokenCount / blockSize
        return (0..<count).map { position in
            RoutingRequest(
                blockHashes: (0..<blocks).map { _ in BlockHash(random.next()) },
                blockSize: blockSize,
                tokenCount: tokenCount,
                sessionKey: sessions.map { "session-\(position % $0)" })
        }
    }
}
