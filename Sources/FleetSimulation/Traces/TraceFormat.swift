/// The trace formats the bench reads.
public enum TraceFormat: String, CaseIterable, Codable, Hashable, Sendable {
    /// Mooncake JSONL: `timestamp` (ms), `input_length`, `output_length`, `hash_ids` (chained block ids).
    case mooncake
    /// Token JSONL: `prompt_token_ids` or `input_ids`, optional `timestamp` (ms), `output_length`,
    /// `session_id`, `model`.
    case tokens
    /// OpenAI request JSONL: a chat or completions body (`messages` or `prompt`, `max_tokens`), optionally
    /// wrapped in a batch line's `body`, optional `timestamp` (ms).
    case openai
    /// Azure LLM inference CSV: `TIMESTAMP,ContextTokens,GeneratedTokens` (no prefix information).
    case azure
    /// The built-in synthetic workload.
    case synthetic

    /// Guesses the format from the first non-empty line, or nil when it matches none.
    ///
    /// JSON lines are told apart by their keys (`hash_ids`, then token ids, then `messages`/`prompt`/`body`);
    /// a first line naming `ContextTokens` is an Azure CSV header.
    public static func detect(firstLine: Substring) -> TraceFormat? {
        let line = firstLine.trimmingWhitespace
        if line.hasPrefix("{") {
            if line.contains("\"hash_ids\"") { return .mooncake }
            if line.contains("\"prompt_token_ids\"") || line.contains("\"input_ids\"") { return .tokens }
            if line.contains("\"messages\"") || line.contains("\"prompt\"") || line.contains("\"body\"") {
                return .openai
            }
            return nil
        }
        if line.lowercased().contains("contexttokens") { return .azure }
        return nil
    }
}

extension Substring {
    /// The substring without leading and trailing whitespace (including CR LF).
    var trimmingWhitespace: Substring {
        var s = self
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return s
    }
}
