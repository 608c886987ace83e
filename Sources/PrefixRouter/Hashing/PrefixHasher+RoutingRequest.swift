extension PrefixHasher {
    /// A routing request for a tokenized prompt: its block hashes, ``blockSize`` and the exact token count.
    ///
    /// - Complexity: O(n) for n tokens; one array allocation.
    public func routingRequest(tokens: [UInt32], sessionKey: String? = nil) -> RoutingRequest {
        RoutingRequest(
            blockHashes: blockHashes(of: tokens),
            blockSize: blockSize,
            tokenCount: tokens.count,
            sessionKey: sessionKey
        )
    }

    /// A routing request for a chat (OpenAI-style `messages` and `tools` a gateway has already decoded): the
    /// hashes of its canonical serialization (``blockHashes(ofChat:tools:)``), ``blockSize`` (estimated
    /// tokens per chunk) and an estimated token count of `⌈serialized bytes / 4⌉`.
    ///
    /// - Parameters:
    ///   - messages: the request's `messages`, in order.
    ///   - tools: the request's `tools` array (tool definitions), in order; empty when it has none.
    ///   - sessionKey: the session key for session affinity, if any.
    /// - Complexity: O(total bytes); two allocations for text-only messages without tools.
    public func routingRequest(
        chat messages: [ChatMessage],
        tools: [JSONValue] = [],
        sessionKey: String? = nil
    ) -> RoutingRequest {
        let bytes = ChatSerialization.canonicalBytes(of: messages, tools: tools)
        let hashes = bytes.withUnsafeBytes { blockHashes(ofUTF8: $0) }
        return RoutingRequest(
            blockHashes: hashes,
            blockSize: blockSize,
            tokenCount: Self.estimatedTokenCount(forByteCount: bytes.count),
            sessionKey: sessionKey
        )
    }

    /// A routing request for a plain completion `prompt`: the hashes of its UTF-8 bytes, ``blockSize``
    /// (estimated tokens per chunk) and an estimated token count of `⌈UTF-8 bytes / 4⌉`.
    ///
    /// - Complexity: O(n) for n UTF-8 bytes; one array allocation.
    public func routingRequest(prompt text: String, sessionKey: String? = nil) -> RoutingRequest {
        RoutingRequest(
            blockHashes: blockHashes(ofText: text),
            blockSize: blockSize,
            tokenCount: Self.estimatedTokenCount(forByteCount: text.utf8.count),
            sessionKey: sessionKey
        )
    }
}
