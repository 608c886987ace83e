/// A full (non-streamed) response in OpenAI's shape: `chat.completion` or `text_completion`.
struct CompletionResponse: Sendable, Encodable {
    let kind: InferenceKind
    let id: String
    let created: Int
    let model: String
    let text: String
    let finishReason: String
    let usage: CompletionUsage

    enum CodingKeys: String, CodingKey {
        case id, object, created, model, choices, usage
    }

    private enum ChoiceKeys: String, CodingKey {
        case index, message, text, logprobs
        case finishReason = "finish_reason"
    }

    private struct Message: Encodable {
        let role = "assistant"
        let content: String
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(kind.responseObject, forKey: .object)
        try container.encode(created, forKey: .created)
        try container.encode(model, forKey: .model)
        var choices = container.nestedUnkeyedContainer(forKey: .choices)
        var choice = choices.nestedContainer(keyedBy: ChoiceKeys.self)
        try choice.encode(0, forKey: .index)
        switch kind {
        case .chat: try choice.encode(Message(content: text), forKey: .message)
        case .completion: try choice.encode(text, forKey: .text)
        }
        try choice.encodeNil(forKey: .logprobs)
        try choice.encode(finishReason, forKey: .finishReason)
        try container.encode(usage, forKey: .usage)
    }
}
