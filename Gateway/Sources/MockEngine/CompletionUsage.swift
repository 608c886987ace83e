/// OpenAI's `usage`, with vLLM's `prompt_tokens_details.cached_tokens`.
struct CompletionUsage: Sendable, Encodable {
    let promptTokens: Int
    let completionTokens: Int
    let cachedTokens: Int

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case totalTokens = "total_tokens"
        case promptTokensDetails = "prompt_tokens_details"
    }

    private struct Details: Encodable {
        let cachedTokens: Int
        enum CodingKeys: String, CodingKey { case cachedTokens = "cached_tokens" }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(promptTokens, forKey: .promptTokens)
        try container.encode(completionTokens, forKey: .completionTokens)
        try container.encode(promptTokens + completionTokens, forKey: .totalTokens)
        try container.encode(Details(cachedTokens: cachedTokens), forKey: .promptTokensDetails)
    }

    /// The same object as JSON text, keys in the order OpenAI sends them.
    var json: String {
        "{\"prompt_tokens\":\(promptTokens),\"completion_tokens\":\(completionTokens),"
            + "\"total_tokens\":\(promptTokens + completionTokens),"
            + "\"prompt_tokens_details\":{\"cached_tokens\":\(cachedTokens)}}"
    }
}
