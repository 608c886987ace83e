/// What a ``MockEngine`` received in one inference request, to check what a gateway forwarded.
public struct MockRequestRecord: Sendable {
    /// The arrival number, from 1, of this request on its engine.
    public var sequence: Int
    /// The request path, such as `/v1/chat/completions`.
    public var path: String
    /// The request headers, names in lower case; repeated fields joined with ", ".
    public var headers: [String: String]
    /// The request body as received (invalid UTF-8 repaired).
    public var body: String
    /// The `model` field, when the body parsed.
    public var model: String?
    /// vLLM's `priority` field as sent; nil when absent (the engine then uses 0) or when the body did not parse.
    public var priority: Int?
    /// The `stream` field, when the body parsed.
    public var stream: Bool?
    /// The prompt's estimated token count, when the body parsed.
    public var promptTokens: Int?

    /// Creates a record; the engine makes these, tests rarely need to.
    public init(
        sequence: Int,
        path: String,
        headers: [String: String],
        body: String,
        model: String? = nil,
        priority: Int? = nil,
        stream: Bool? = nil,
        promptTokens: Int? = nil
    ) {
        self.sequence = sequence
        self.path = path
        self.headers = headers
        self.body = body
        self.model = model
        self.priority = priority
        self.stream = stream
        self.promptTokens = promptTokens
    }

    /// The value of a header, looked up without regard to case.
    public func header(_ name: String) -> String? {
        headers[name.lowercased()]
    }
}
