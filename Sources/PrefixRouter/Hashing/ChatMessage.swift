/// One message of an OpenAI-style chat request, as a gateway has decoded it.
///
/// `Codable` with the wire keys of the OpenAI Chat Completions API: `role`, `content` (a string, an array of
/// content parts, or `null`), `name`, `tool_calls` and `tool_call_id`. Decoding accepts every message that API
/// accepts and ignores members it does not model (`refusal`, `audio`, the deprecated `function_call`…), so a
/// gateway that decodes `messages` with this type never rejects a valid request; those members are not hashed.
///
/// ```json
/// {"role": "user", "content": [{"type": "text", "text": "What is this?"},
///                              {"type": "image_url", "image_url": {"url": "https://…"}}]}
/// {"role": "assistant", "content": null,
///  "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}
/// {"role": "tool", "tool_call_id": "call_1", "content": "42"}
/// ```
public struct ChatMessage: Hashable, Sendable, Codable {
    /// The speaker: `"system"`, `"developer"`, `"user"`, `"assistant"`, `"tool"`… (any string is accepted).
    public var role: String
    /// The message content, or nil for `null` (or absent) content, as in an assistant message that only calls
    /// tools.
    public var content: ChatContent?
    /// The optional participant name.
    public var name: String?
    /// The assistant's tool calls (`tool_calls`), each kept as JSON, or nil.
    public var toolCalls: [JSONValue]?
    /// The tool call a `tool` message answers (`tool_call_id`), or nil.
    public var toolCallID: String?

    /// Creates a message with plain text content.
    public init(role: String, content: String, name: String? = nil) {
        self.init(role: role, content: .text(content), name: name)
    }

    /// Creates a message with any content and the tool fields.
    public init(
        role: String,
        content: ChatContent?,
        name: String? = nil,
        toolCalls: [JSONValue]? = nil,
        toolCallID: String? = nil
    ) {
        self.role = role
        self.content = content
        self.name = name
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
    }

    enum CodingKeys: String, CodingKey {
        case role, content, name
        case toolCalls = "tool_calls"
        case toolCallID = "tool_call_id"
    }

    /// Decodes a message from its wire form; `null` optional members read as absent.
    ///
    /// - Throws: `DecodingError` naming the member (with its coding path) when `role` is missing or is not a
    ///   string, or when a present member has the wrong type.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        role = try container.decode(String.self, forKey: .role)
        content = try container.decodeIfPresent(ChatContent.self, forKey: .content)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        toolCalls = try container.decodeIfPresent([JSONValue].self, forKey: .toolCalls)
        toolCallID = try container.decodeIfPresent(String.self, forKey: .toolCallID)
    }

    /// Encodes the message in its wire form: `content` always (`null` when nil), the other optional members
    /// only when present.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(role, forKey: .role)
        try container.encode(content, forKey: .content)
        try container.encodeIfPresent(name, forKey: .name)
        try container.encodeIfPresent(toolCalls, forKey: .toolCalls)
        try container.encodeIfPresent(toolCallID, forKey: .toolCallID)
    }
}

/// The content of a ``ChatMessage``: a string, or an array of content parts.
public enum ChatContent: Hashable, Sendable, Codable {
    /// Plain text (`"content": "…"`).
    case text(String)
    /// Content parts (`"content": [{"type": "text", …}, {"type": "image_url", …}]`).
    case parts([ChatContentPart])

    /// The text the content renders to, without non-text parts: the string itself, or the text parts joined
    /// with `"\n"` (as vLLM's `vllm/entrypoints/chat_utils.py` joins them for string-format chat templates).
    public var plainText: String {
        switch self {
        case .text(let text): return text
        case .parts(let parts):
            return parts.compactMap { part -> String? in
                if case .text(let text) = part { return text }
                return nil
            }.joined(separator: "\n")
        }
    }

    /// Decodes a string or an array of content parts.
    ///
    /// - Throws: `DecodingError.typeMismatch` when the content is neither a string nor an array, or a part's
    ///   error (see ``ChatContentPart``).
    public init(from decoder: any Decoder) throws {
        if var array = try? decoder.unkeyedContainer() {
            // Decoded part by part, so that a malformed part's error carries its index in the coding path.
            var parts: [ChatContentPart] = []
            while !array.isAtEnd { parts.append(try array.decode(ChatContentPart.self)) }
            self = .parts(parts)
            return
        }
        guard let text = try? decoder.singleValueContainer().decode(String.self) else {
            throw DecodingError.typeMismatch(
                ChatContent.self,
                DecodingError.Context(
                    codingPath: decoder.codingPath,
                    debugDescription: "content: expected a string, an array of content parts or null"
                )
            )
        }
        self = .text(text)
    }

    /// Encodes the string or the array of parts.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .text(let text): try container.encode(text)
        case .parts(let parts): try container.encode(parts)
        }
    }
}

/// One element of a content-parts array.
public enum ChatContentPart: Hashable, Sendable, Codable {
    /// A text part, `{"type": "text", "text": "…"}`. Other members of a text part are not kept.
    case text(String)
    /// Any other part (`image_url`, `input_audio`, `file`, `refusal`…), kept whole as JSON, including its
    /// `type`.
    case other(JSONValue)

    /// The part's `type` (`"text"`, `"image_url"`…).
    public var type: String {
        switch self {
        case .text: return "text"
        case .other(let json):
            guard case .object(let members) = json, case .string(let type)? = members["type"] else { return "" }
            return type
        }
    }

    /// Decodes a part: an object with a string `type`; a `text` part also needs a string `text`.
    ///
    /// - Throws: `DecodingError.dataCorrupted` naming the problem (`content part: expected an object with a
    ///   string "type"`, or `content part of type "text": expected a string "text"`).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let json = try container.decode(JSONValue.self)
        guard case .object(let members) = json, case .string(let type)? = members["type"] else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "content part: expected an object with a string \"type\""
            )
        }
        guard type == "text" else {
            self = .other(json)
            return
        }
        guard case .string(let text)? = members["text"] else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: "content part of type \"text\": expected a string \"text\""
            )
        }
        self = .text(text)
    }

    /// Encodes the part: `{"type": "text", "text": …}`, or the kept JSON.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .text(let text): try container.encode(JSONValue.object(["type": .string("text"), "text": .string(text)]))
        case .other(let json): try container.encode(json)
        }
    }
}
