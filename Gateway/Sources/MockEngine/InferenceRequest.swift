#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The two OpenAI inference endpoints the mock serves.
enum InferenceKind: Sendable {
    /// `POST /v1/chat/completions`.
    case chat
    /// `POST /v1/completions`.
    case completion

    /// The `object` of a full response.
    var responseObject: String { self == .chat ? "chat.completion" : "text_completion" }
    /// The `object` of a streamed chunk.
    var chunkObject: String { self == .chat ? "chat.completion.chunk" : "text_completion" }
    /// The prefix of response ids.
    var idPrefix: String { self == .chat ? "chatcmpl-mock-" : "cmpl-mock-" }
}

/// A validated inference request: what the engine needs to schedule and answer it.
struct InferenceRequest: Sendable {
    let kind: InferenceKind
    let model: String
    /// The prompt as bytes: UTF-8 text, or 4 bytes per token id.
    let promptBytes: [UInt8]
    let stream: Bool
    let includeUsage: Bool
    /// Tokens to generate.
    let maxTokens: Int
    /// Whether the client capped the output (then `finish_reason` is `length`, else `stop`).
    let capped: Bool
    /// vLLM's `priority` as sent; nil when absent.
    let priority: Int?

    /// Decodes and validates a body.
    ///
    /// - Throws: ``OpenAIError`` (400 naming the field, or 404 for an unknown model).
    static func parse(
        _ body: [UInt8],
        kind: InferenceKind,
        configuration: MockEngineConfiguration
    ) throws(OpenAIError) -> InferenceRequest {
        let decoder = JSONDecoder()
        let data = Data(body)
        let model: String?
        let prompt: [UInt8]
        let stream: Bool?
        let options: StreamOptions?
        let maxTokens: (value: Int, param: String)?
        let priority: Int?
        do {
            switch kind {
            case .chat:
                let chat = try decoder.decode(ChatCompletionBody.self, from: data)
                guard !chat.messages.isEmpty else {
                    throw OpenAIError.invalidRequest(
                        "'messages' must contain at least one message.",
                        param: "messages",
                        code: "invalid_value"
                    )
                }
                var text = ""
                for message in chat.messages {
                    text += message.role + ": " + (message.content?.text ?? "") + "\n"
                }
                (model, prompt, stream, options, priority) = (
                    chat.model, Array(text.utf8), chat.stream, chat.streamOptions, chat.priority?.value
                )
                maxTokens =
                    chat.maxCompletionTokens.map { ($0.value, "max_completion_tokens") }
                    ?? chat.maxTokens.map { ($0.value, "max_tokens") }
            case .completion:
                let completion = try decoder.decode(CompletionBody.self, from: data)
                switch completion.prompt {
                case .text(let text): prompt = Array(text.utf8)
                case .tokens(let ids): prompt = Self.bytes(ofTokenIDs: ids)
                }
                guard !prompt.isEmpty else {
                    throw OpenAIError.invalidRequest(
                        "'prompt' must not be empty.",
                        param: "prompt",
                        code: "invalid_value"
                    )
                }
                (model, stream, options, priority) = (
                    completion.model, completion.stream, completion.streamOptions, completion.priority?.value
                )
                maxTokens = completion.maxTokens.map { ($0.value, "max_tokens") }
            }
        } catch let error as DecodingError {
            throw OpenAIError(decoding: error)
        } catch let error as OpenAIError {
            throw error
        } catch {
            throw OpenAIError.invalidRequest("Invalid request body.", param: nil, code: "invalid_json")
        }
        let served = model ?? configuration.models.first ?? ""
        guard configuration.models.contains(served) else { throw .modelNotFound(served) }
        if let maxTokens, maxTokens.value < 1 {
            throw .invalidRequest(
                "Invalid value for '\(maxTokens.param)': it must be at least 1.",
                param: maxTokens.param,
                code: "invalid_value"
            )
        }
        if options != nil && stream != true {
            throw .invalidRequest(
                "'stream_options' is only allowed when 'stream' is true.",
                param: "stream_options",
                code: "invalid_value"
            )
        }
        return InferenceRequest(
            kind: kind,
            model: served,
            promptBytes: prompt,
            stream: stream ?? false,
            includeUsage: options?.includeUsage ?? false,
            maxTokens: maxTokens?.value ?? configuration.defaultMaxTokens,
            capped: maxTokens != nil,
            priority: priority
        )
    }

    /// Four little-endian bytes per token id, so that "bytes ÷ 4" counts one token per id.
    private static func bytes(ofTokenIDs ids: [Int]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        for id in ids {
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: id).littleEndian) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }
}
