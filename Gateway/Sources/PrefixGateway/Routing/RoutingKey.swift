// Every call into PrefixRouter's hashing API lives in this file, so that extending the hashing (content-part
// arrays, null content and tool calls in `ChatMessage`, hashing `tools`) is a change in one place.
import PrefixRouter

/// One chat message as it arrives: `content` may be a string, an array of content parts, or null.
///
/// Until the library decodes content parts itself, the gateway flattens them: text parts joined with `"\n"`,
/// other parts (images, audio) ignored; null content is the empty string. Tool calls are not hashed yet.
struct WireChatMessage: Decodable, Sendable {
    var role: String
    var content: String
    var name: String?

    enum CodingKeys: String, CodingKey { case role, content, name }

    private struct ContentPart: Decodable {
        var type: String?
        var text: String?
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        role = try c.decode(String.self, forKey: .role)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        if try !c.contains(.content) || c.decodeNil(forKey: .content) {
            content = ""
        } else if let text = try? c.decode(String.self, forKey: .content) {
            content = text
        } else if let parts = try? c.decode([ContentPart].self, forKey: .content) {
            content = parts.compactMap { ($0.type == nil || $0.type == "text") ? $0.text : nil }.joined(separator: "\n")
        } else {
            throw DecodingError.typeMismatch(
                String.self,
                DecodingError.Context(
                    codingPath: c.codingPath + [CodingKeys.content],
                    debugDescription: "expected a string, an array of content parts, or null"
                )
            )
        }
    }

    /// The library's message.
    var chatMessage: ChatMessage { ChatMessage(role: role, content: content, name: name) }
}

/// A text completion's `prompt`: a string, an array of strings, an array of token ids, or an array of
/// token-id arrays. Routing uses the first prompt of a batch.
enum WirePrompt: Decodable, Sendable {
    case text(String)
    case texts([String])
    case tokens([UInt32])
    case tokenBatches([[UInt32]])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let text = try? c.decode(String.self) {
            self = .text(text)
        } else if let texts = try? c.decode([String].self) {
            self = .texts(texts)
        } else if let tokens = try? c.decode([UInt32].self) {
            self = .tokens(tokens)
        } else if let batches = try? c.decode([[UInt32]].self) {
            self = .tokenBatches(batches)
        } else {
            throw DecodingError.typeMismatch(
                String.self,
                DecodingError.Context(
                    codingPath: c.codingPath,
                    debugDescription:
                        "expected a string, an array of strings, or an array of token ids in 0...4294967295"
                )
            )
        }
    }
}

/// Turns a decoded request into the library's `RoutingRequest`: hashed with `PrefixHasher`, scoped by model
/// (`HashNamespace(model:)`), so two models never share a key.
struct RoutingKeyBuilder: Sendable {
    /// One hasher per configured model (its namespace root is computed once).
    private let hashers: [String: PrefixHasher]

    /// Hashers for `models` with `blockSize` tokens per block.
    ///
    /// - Throws: the library's error when the block size is out of range.
    init(models: [String], blockSize: Int) throws(PrefixRouterError) {
        var hashers: [String: PrefixHasher] = [:]
        for model in models {
            hashers[model] = try PrefixHasher(blockSize: blockSize, namespace: HashNamespace(model: model))
        }
        self.hashers = hashers
    }

    /// The routing request of `request`, or nil when its model is not configured.
    func routingRequest(for request: CompletionRequest, sessionKey: String?) -> RoutingRequest? {
        guard let hasher = hashers[request.model] else { return nil }
        if let messages = request.messages {
            return hasher.routingRequest(chat: messages.map(\.chatMessage), sessionKey: sessionKey)
        }
        switch request.prompt {
        case .text(let text):
            return hasher.routingRequest(prompt: text, sessionKey: sessionKey)
        case .texts(let texts):
            var routing = hasher.routingRequest(prompt: texts.first ?? "", sessionKey: sessionKey)
            routing.tokenCount = texts.reduce(0) { $0 + PrefixHasher.estimatedTokenCount(forByteCount: $1.utf8.count) }
            return routing
        case .tokens(let tokens):
            return hasher.routingRequest(tokens: tokens, sessionKey: sessionKey)
        case .tokenBatches(let batches):
            var routing = hasher.routingRequest(tokens: batches.first ?? [], sessionKey: sessionKey)
            routing.tokenCount = batches.reduce(0) { $0 + $1.count }
            return routing
        case nil:
            return RoutingRequest(blockSize: hasher.blockSize, tokenCount: 0, sessionKey: sessionKey)
        }
    }
}
