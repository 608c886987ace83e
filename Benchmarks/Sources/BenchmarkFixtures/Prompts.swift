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
        count: Int,
        tokenCount: Int = 2_048,
        blockSize: Int = 16,
        sessions: Int? = nil,
        seed: UInt64
    ) -> [RoutingRequest] {
        var random = RandomSource(seed: seed)
        let blocks = tokenCount / blockSize
        return (0..<count).map { position in
            RoutingRequest(
                blockHashes: (0..<blocks).map { _ in BlockHash(random.next()) },
                blockSize: blockSize,
                tokenCount: tokenCount,
                sessionKey: sessions.map { "session-\(position % $0)" }
            )
        }
    }
}

extension Prompts {
    /// Words drawn from to build synthetic English-like text.
    static let words = [
        "the", "cache", "replica", "prompt", "token", "request", "gateway", "routes", "prefix", "block",
        "system", "you", "are", "a", "helpful", "assistant", "answer", "question", "with", "care",
        "inference", "model", "server", "latency", "throughput", "memory", "attention", "context", "window", "of",
    ]

    /// About `byteCount` bytes of space-separated words, reproducible from `seed`.
    public static func text(byteCount: Int, seed: UInt64) -> String {
        var random = RandomSource(seed: seed)
        var text = ""
        text.reserveCapacity(byteCount + 16)
        while text.utf8.count < byteCount {
            text += words[random.next(below: words.count)]
            text += " "
        }
        return String(text.utf8.prefix(byteCount)) ?? text
    }

    /// A chat request of about `byteCount` bytes of content: a system prompt of a quarter of it, then six
    /// alternating user and assistant turns sharing the rest.
    public static func chat(byteCount: Int, seed: UInt64) -> [ChatMessage] {
        let system = ChatMessage(role: "system", content: text(byteCount: byteCount / 4, seed: seed))
        let turnBytes = (byteCount - byteCount / 4) / 6
        let turns = (0..<6).map { turn in
            ChatMessage(
                role: turn.isMultiple(of: 2) ? "user" : "assistant",
                content: text(byteCount: turnBytes, seed: seed &+ UInt64(turn) &+ 1)
            )
        }
        return [system] + turns
    }
}
