import Foundation
import PrefixRouter

/// OpenAI request JSONL: one chat (`messages`) or completions (`prompt`) body per line, possibly wrapped as a
/// batch-API line (`{"custom_id": …, "body": {…}}`). Optional `timestamp` (ms), `max_tokens` (or
/// `max_completion_tokens`) for the output length, `user` or `session_id` as the session, `model` as the hash
/// namespace.
///
/// No tokenizer: prompts are hashed with ``PrefixHasher``'s chat or text hashing, and the prompt length is
/// estimated at 4 UTF-8 bytes per token (the usual tokenizer-free estimate: OpenAI's tokenizer guide gives about 4 characters per token for English).
struct OpenAILineParser: TraceLineParser {
    static let bytesPerToken = 4

    let file: String
    let options: TraceReadOptions
    var hashers: HasherCache

    init(file: String, options: TraceReadOptions) throws(TraceError) {
        try options.validate(file: file)
        self.file = file
        self.options = options
        self.hashers = HasherCache(blockSize: options.hashBlockSize, file: file)
    }

    mutating func parse(_ text: Substring, line: Int, index: Int) throws(TraceError) -> TraceRequest? {
        let outer = try JSONLine(text, file: file, line: line)
        let body: JSONLine
        if outer.has("body") {
            guard let object = outer.object["body"] as? [String: Any] else {
                throw outer.error("body", expected: "a request body object", found: outer.object["body"])
            }
            body = JSONLine(object: object, file: file, line: line)
        } else {
            body = outer
        }
        var timestamp = try outer.numberIfPresent("timestamp")
        if timestamp == nil { timestamp = try body.numberIfPresent("timestamp") }
        var maxTokens = try body.integerIfPresent("max_tokens", in: 0...100_000_000)
        if maxTokens == nil { maxTokens = try body.integerIfPresent("max_completion_tokens", in: 0...100_000_000) }
        let output = maxTokens ?? options.defaultOutputTokens
        var session = try outer.stringIfPresent("session_id")
        if session == nil { session = try body.stringIfPresent("user") }
        let model = try body.stringIfPresent("model")
        let hasher = try hashers.hasher(for: model, line: line)
        let hashes: [BlockHash]
        let bytes: Int
        if body.has("messages") {
            let messages = try chatMessages(body)
            hashes = hasher.blockHashes(ofChat: messages)
            bytes = messages.reduce(0) { $0 + $1.role.utf8.count + ($1.content?.plainText.utf8.count ?? 0) }
        } else if body.has("prompt") {
            let prompt = try promptText(body)
            hashes = hasher.blockHashes(ofText: prompt)
            bytes = prompt.utf8.count
        } else {
            throw body.error("messages", expected: "a `messages` array or a `prompt`", found: nil)
        }
        let tokens = max(1, (bytes + OpenAILineParser.bytesPerToken - 1) / OpenAILineParser.bytesPerToken)
        return TraceRequest(
            arrival: timestamp.map { $0 / 1000 } ?? options.defaultArrival(index: index),
            inputTokens: tokens,
            outputTokens: output,
            blockHashes: hashes,
            blockSize: options.hashBlockSize,
            sessionKey: session
        )
    }

    func chatMessages(_ body: JSONLine) throws(TraceError) -> [ChatMessage] {
        guard let array = body.object["messages"] as? [Any], !array.isEmpty else {
            throw body.error("messages", expected: "a non-empty array of messages", found: body.object["messages"])
        }
        var messages: [ChatMessage] = []
        for (position, element) in array.enumerated() {
            let field = "messages[\(position)]"
            guard let message = element as? [String: Any] else {
                throw body.error(field, expected: "an object with `role` and `content`", found: element)
            }
            guard let role = message["role"] as? String else {
                throw body.error("\(field).role", expected: "a string", found: message["role"])
            }
            let content: String
            switch message["content"] {
            case let string as String:
                content = string
            case let parts as [Any]:
                // Content parts: concatenate the text parts in order (images and audio carry no text).
                var text = ""
                for (partIndex, part) in parts.enumerated() {
                    guard let object = part as? [String: Any] else {
                        throw body.error(
                            "\(field).content[\(partIndex)]",
                            expected: "a content part object",
                            found: part
                        )
                    }
                    if let partText = object["text"] as? String { text += partText }
                }
                content = text
            case nil, is NSNull:
                content = ""  // assistant messages with tool calls have no content
            case let other:
                throw body.error("\(field).content", expected: "a string or an array of content parts", found: other)
            }
            let name = message["name"] as? String
            messages.append(ChatMessage(role: role, content: content, name: name))
        }
        return messages
    }

    func promptText(_ body: JSONLine) throws(TraceError) -> String {
        switch body.object["prompt"] {
        case let string as String:
            return string
        case let strings as [Any] where strings.allSatisfy({ $0 is String }) && !strings.isEmpty:
            return strings.compactMap { $0 as? String }.joined(separator: "\n")
        case let other:
            throw body.error("prompt", expected: "a string or an array of strings", found: other)
        }
    }
}
