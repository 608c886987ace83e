// Every call into PrefixRouter's hashing API lives in this file. Chat requests are hashed with the library's
// schema: `tools` first, then every message with its role, name, `tool_call_id`, content (string, content parts
// or null) and tool calls, as `ChatMessage` decodes them.
import PrefixRouter

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
            return hasher.routingRequest(chat: messages, tools: request.tools, sessionKey: sessionKey)
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
