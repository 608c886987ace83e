/// The fields of `POST /v1/chat/completions` the mock reads; others are ignored.
struct ChatCompletionBody: Decodable {
    var model: String?
    var messages: [ChatMessage]
    var stream: Bool?
    var streamOptions: StreamOptions?
    var maxTokens: JSONInteger?
    var maxCompletionTokens: JSONInteger?
    var priority: JSONInteger?

    enum CodingKeys: String, CodingKey {
        case model, messages, stream, priority
        case streamOptions = "stream_options"
        case maxTokens = "max_tokens"
        case maxCompletionTokens = "max_completion_tokens"
    }
}

/// The fields of `POST /v1/completions` the mock reads; others are ignored.
struct CompletionBody: Decodable {
    var model: String?
    var prompt: CompletionPrompt
    var stream: Bool?
    var streamOptions: StreamOptions?
    var maxTokens: JSONInteger?
    var priority: JSONInteger?

    enum CodingKeys: String, CodingKey {
        case model, prompt, stream, priority
        case streamOptions = "stream_options"
        case maxTokens = "max_tokens"
    }
}

/// OpenAI's `stream_options`.
struct StreamOptions: Decodable {
    var includeUsage: Bool?

    enum CodingKeys: String, CodingKey {
        case includeUsage = "include_usage"
    }
}

/// One chat message: a role and text content, a string or an array of parts (only `text` parts count).
struct ChatMessage: Decodable {
    var role: String
    var content: MessageContent?
}

/// A message's content: a string, or an array of content parts.
enum MessageContent: Decodable, JSONShapeDescribing {
    case text(String)
    case parts([ContentPart])

    static let shapeDescription = "a string or an array of content parts"

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .text(text)
        } else if let parts = try? container.decode([ContentPart].self) {
            self = .parts(parts)
        } else {
            throw DecodingError.typeMismatch(
                MessageContent.self,
                .init(codingPath: decoder.codingPath, debugDescription: "expected \(Self.shapeDescription)")
            )
        }
    }

    /// The text the prompt estimate counts.
    var text: String {
        switch self {
        case .text(let text): text
        case .parts(let parts): parts.compactMap(\.text).joined()
        }
    }
}

/// A content part; only the text of `text` parts is read.
struct ContentPart: Decodable {
    var type: String
    var text: String?
}

/// A completion prompt: a string or an array of token ids (a one-element array of either is accepted too).
enum CompletionPrompt: Decodable, JSONShapeDescribing {
    case text(String)
    case tokens([Int])

    static let shapeDescription = "a string or an array of token ids"

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .text(text)
        } else if let tokens = try? container.decode([Int].self) {
            self = .tokens(tokens)
        } else if let texts = try? container.decode([String].self), texts.count == 1 {
            self = .text(texts[0])
        } else if let batches = try? container.decode([[Int]].self), batches.count == 1 {
            self = .tokens(batches[0])
        } else {
            throw DecodingError.typeMismatch(
                CompletionPrompt.self,
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription: "expected \(Self.shapeDescription) (batched prompts are not supported)"
                )
            )
        }
    }
}
