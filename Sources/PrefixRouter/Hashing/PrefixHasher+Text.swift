extension PrefixHasher {
    /// Bytes per estimated token when no tokenizer is at hand (the established 4-bytes-per-token fallback).
    public static let estimatedBytesPerToken = 4

    /// Bytes per text chunk: `4 × blockSize`, so that one chunk stands for about one block of tokens.
    public var textChunkBytes: Int { blockSize * Self.estimatedBytesPerToken }

    /// The estimated token count of `byteCount` UTF-8 bytes: `⌈byteCount / 4⌉`. O(1).
    public static func estimatedTokenCount(forByteCount byteCount: Int) -> Int {
        byteCount <= 0 ? 0 : (byteCount - 1) / estimatedBytesPerToken + 1
    }

    /// The chained hashes of raw UTF-8 (or any) bytes in chunks of ``textChunkBytes``, from the same root and
    /// with the same ``tailPolicy`` as token hashing. One array allocation (the result).
    ///
    /// - Complexity: O(n) for n bytes.
    public func blockHashes(ofUTF8 bytes: UnsafeRawBufferPointer) -> [BlockHash] {
        let chunk = textChunkBytes
        let count = Self.chunkCount(forLength: bytes.count, chunk: chunk, tailPolicy: tailPolicy)
        return Self.collect(capacity: count) { chainBytes(bytes, chunk: chunk, into: $0) }
    }

    /// The chained hashes of `text`'s UTF-8 bytes in chunks of ``textChunkBytes`` (4 bytes ≈ 1 token), for
    /// gateways without a tokenizer. Chunks may split a multi-byte character; only the bytes matter.
    ///
    /// - Complexity: O(n) for n UTF-8 bytes; no copy of native strings, one array allocation (the result).
    public func blockHashes(ofText text: String) -> [BlockHash] {
        var text = text
        return text.withUTF8 { blockHashes(ofUTF8: UnsafeRawBufferPointer($0)) }
    }

    /// The chained hashes of a chat request: ``ChatSerialization/canonicalBytes(of:tools:)`` hashed as text
    /// bytes.
    ///
    /// Tools, roles, names, tool calls and message boundaries are part of the bytes, so different layouts of
    /// the same characters never share hashes past the point where they differ, while a conversation that
    /// grows by appending messages keeps the hashes of its earlier turns.
    ///
    /// - Parameters:
    ///   - messages: the request's `messages`, in order.
    ///   - tools: the request's `tools` array (tool definitions), in order; empty when it has none.
    /// - Complexity: O(total bytes); two allocations for text-only messages without tools (the serialization
    ///   and the result).
    public func blockHashes(ofChat messages: [ChatMessage], tools: [JSONValue] = []) -> [BlockHash] {
        let bytes = ChatSerialization.canonicalBytes(of: messages, tools: tools)
        return bytes.withUnsafeBytes { blockHashes(ofUTF8: $0) }
    }
}
