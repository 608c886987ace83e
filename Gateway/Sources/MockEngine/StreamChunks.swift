import NIOCore

/// The server-sent events of one streamed response, in OpenAI's chunk shape.
///
/// Everything but the token text is rendered once per response; a token chunk costs one buffer.
struct StreamChunks: Sendable {
    private let kind: InferenceKind
    private let head: String  // `data: {"id":…,"model":…,`
    private let tokenPrefix: String
    private let tokenSuffix: String
    private let finishReason: String

    init(kind: InferenceKind, id: String, model: String, created: Int, finishReason: String) {
        self.kind = kind
        self.finishReason = finishReason
        head =
            "data: {\"id\":\(JSONText.quoted(id)),\"object\":\"\(kind.chunkObject)\",\"created\":\(created),"
            + "\"model\":\(JSONText.quoted(model)),"
        switch kind {
        case .chat:
            tokenPrefix = head + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\""
            tokenSuffix = "\"},\"logprobs\":null,\"finish_reason\":"
        case .completion:
            tokenPrefix = head + "\"choices\":[{\"index\":0,\"text\":\""
            tokenSuffix = "\",\"logprobs\":null,\"finish_reason\":"
        }
    }

    /// The chat stream's opening chunk with the assistant role; nil for completions.
    func roleChunk(allocator: ByteBufferAllocator) -> ByteBuffer? {
        guard kind == .chat else { return nil }
        return allocator.buffer(
            string: head
                + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
                + "\"logprobs\":null,\"finish_reason\":null}]}\n\n"
        )
    }

    /// The chunk of token `index`; the last one carries the finish reason.
    func tokenChunk(_ index: Int, isLast: Bool, allocator: ByteBufferAllocator) -> ByteBuffer {
        // Token texts are `tok<n>` with an optional leading space: nothing to escape.
        let token = TokenText.token(index)
        let finish = isLast ? "\"\(finishReason)\"}]}\n\n" : "null}]}\n\n"
        var buffer = allocator.buffer(
            capacity: tokenPrefix.utf8.count + token.utf8.count + tokenSuffix.utf8.count + finish.utf8.count
        )
        buffer.writeString(tokenPrefix)
        buffer.writeString(token)
        buffer.writeString(tokenSuffix)
        buffer.writeString(finish)
        return buffer
    }

    /// The final usage chunk, with empty `choices`.
    func usageChunk(_ usage: CompletionUsage, allocator: ByteBufferAllocator) -> ByteBuffer {
        allocator.buffer(string: head + "\"choices\":[],\"usage\":" + usage.json + "}\n\n")
    }

    /// The stream's end marker.
    static let done = "data: [DONE]\n\n"
}
