import Foundation
import PrefixRouter

/// The few fields of an OpenAI chat or text completion request that the gateway reads; the body itself is
/// forwarded unchanged. Everything else (sampling parameters, …) is ignored here.
struct CompletionRequest: Decodable, Sendable {
    /// `model`.
    var model: String
    /// `messages` (chat completions), decoded by the library (string, content-part or null content, tool calls,
    /// `tool_call_id`; unknown fields ignored).
    var messages: [ChatMessage]?
    /// `tools` (chat completions): part of the hashed prefix, as chat templates render them first.
    var tools: [JSONValue]
    /// `prompt` (text completions).
    var prompt: WirePrompt?
    /// `prompt_cache_key`: the client's own grouping key, used as the session key.
    var promptCacheKey: String?
    /// `user`.
    var user: String?
    /// `stream`; absent means false.
    var stream: Bool
    /// `stream_options.include_usage`.
    var includeUsage: Bool

    enum CodingKeys: String, CodingKey {
        case model, messages, tools, prompt, user, stream
        case promptCacheKey = "prompt_cache_key"
        case streamOptions = "stream_options"
    }

    enum StreamOptionsKeys: String, CodingKey { case includeUsage = "include_usage" }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(String.self, forKey: .model)
        messages = try c.decodeIfPresent([ChatMessage].self, forKey: .messages)
        tools = try c.decodeIfPresent([JSONValue].self, forKey: .tools) ?? []
        prompt = try c.decodeIfPresent(WirePrompt.self, forKey: .prompt)
        promptCacheKey = try c.decodeIfPresent(String.self, forKey: .promptCacheKey)
        user = try c.decodeIfPresent(String.self, forKey: .user)
        stream = try c.decodeIfPresent(Bool.self, forKey: .stream) ?? false
        if c.contains(.streamOptions), try !c.decodeNil(forKey: .streamOptions) {
            let options = try c.nestedContainer(keyedBy: StreamOptionsKeys.self, forKey: .streamOptions)
            includeUsage = try options.decodeIfPresent(Bool.self, forKey: .includeUsage) ?? false
        } else {
            includeUsage = false
        }
    }

    /// A bad request body: the field it concerns (`messages[2].content`) and what was expected.
    struct Invalid: Error {
        var field: String?
        var message: String
    }

    /// Decodes a request body for `endpoint`, checking that its required input is present.
    ///
    /// - Throws: ``Invalid`` naming the field.
    static func decode(
        _ bytes: some Collection<UInt8> & Sendable,
        endpoint: CompletionEndpoint
    ) throws(Invalid) -> CompletionRequest {
        let request: CompletionRequest
        do {
            request = try JSONDecoder().decode(CompletionRequest.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw Invalid(decoding: error)
        } catch {
            throw Invalid(field: nil, message: "the body is not valid JSON")
        }
        switch endpoint {
        case .chatCompletions:
            guard let messages = request.messages else {
                throw Invalid(field: "messages", message: "required field is missing")
            }
            guard !messages.isEmpty else { throw Invalid(field: "messages", message: "expected at least one message") }
        case .completions:
            guard request.prompt != nil else { throw Invalid(field: "prompt", message: "required field is missing") }
        }
        guard !request.model.isEmpty else { throw Invalid(field: "model", message: "expected a model name") }
        return request
    }
}

extension CompletionRequest.Invalid {
    init(decoding error: DecodingError) {
        func path(_ codingPath: [any CodingKey]) -> String? {
            var text = ""
            for key in codingPath {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += text.isEmpty ? key.stringValue : "." + key.stringValue
                }
            }
            return text.isEmpty ? nil : text
        }
        switch error {
        case .keyNotFound(let key, let context):
            self.init(field: path(context.codingPath + [key]), message: "required field is missing")
        case .typeMismatch(let type, let context):
            self.init(field: path(context.codingPath), message: Self.expected(type, context))
        case .valueNotFound(let type, let context):
            self.init(field: path(context.codingPath), message: Self.expected(type, context) + ", found null")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                self.init(field: nil, message: "the body is not valid JSON")
            } else {
                self.init(field: path(context.codingPath), message: context.debugDescription)
            }
        @unknown default:
            self.init(field: nil, message: "the body is not a valid request")
        }
    }

    private static func expected(_ type: Any.Type, _ context: DecodingError.Context) -> String {
        switch type {
        case is String.Type: "expected a string"
        case is Bool.Type: "expected true or false"
        case is UInt32.Type: "expected a token id in 0...4294967295"
        default:
            context.debugDescription.isEmpty ? "has the wrong type" : context.debugDescription
        }
    }
}

/// The two inference endpoints.
enum CompletionEndpoint: String, Sendable, CaseIterable {
    /// `POST /v1/chat/completions`.
    case chatCompletions = "/v1/chat/completions"
    /// `POST /v1/completions`.
    case completions = "/v1/completions"

    /// The metric label.
    var label: String {
        switch self {
        case .chatCompletions: "chat_completions"
        case .completions: "completions"
        }
    }
}
