import Foundation

/// The `usage` an engine reported for a request: prompt and completion tokens, and how many of the prompt
/// tokens it found in its prefix cache (`prompt_tokens_details.cached_tokens`; vLLM reports it with
/// `--enable-prompt-tokens-details`, SGLang with `--enable-cache-report`; nil when absent).
struct ReportedUsage: Sendable, Equatable {
    var promptTokens: Int
    var completionTokens: Int
    var cachedTokens: Int?

    private struct Wire: Decodable {
        struct Details: Decodable {
            var cachedTokens: Int?
            enum CodingKeys: String, CodingKey { case cachedTokens = "cached_tokens" }
        }
        var promptTokens: Int?
        var completionTokens: Int?
        var promptTokensDetails: Details?
        enum CodingKeys: String, CodingKey {
            case promptTokens = "prompt_tokens"
            case completionTokens = "completion_tokens"
            case promptTokensDetails = "prompt_tokens_details"
        }
    }

    /// Decodes the `usage` object in `bytes[range]`; nil when it is not one.
    private static func decode(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) -> ReportedUsage? {
        guard range.lowerBound < bytes.count, bytes[range.lowerBound] == UInt8(ascii: "{") else { return nil }
        let data = Data(bytes[range])
        guard let wire = try? JSONDecoder().decode(Wire.self, from: data), let prompt = wire.promptTokens else {
            return nil
        }
        return ReportedUsage(
            promptTokens: max(0, prompt),
            completionTokens: max(0, wire.completionTokens ?? 0),
            cachedTokens: wire.promptTokensDetails?.cachedTokens.map { min(max(0, $0), max(0, prompt)) }
        )
    }

    /// The usage of the final usage chunk of a stream, when `event` (one SSE event, `data: {…}` and its
    /// blank line) is that chunk: `choices` empty and `usage` an object. Only the `usage` object is decoded.
    static func finalChunk(_ event: UnsafeRawBufferPointer) -> ReportedUsage? {
        guard let choicesKey = JSONBytes.firstIndex(of: #""choices""#, in: event),
            let choices = JSONBytes.valueAfterKey(endingAt: choicesKey + 9, in: event),
            event[choices.lowerBound] == UInt8(ascii: "["),
            JSONBytes.skipWhitespace(event, choices.lowerBound + 1) == choices.upperBound - 1,
            let usageKey = JSONBytes.firstIndex(of: #""usage""#, in: event),
            let usage = JSONBytes.valueAfterKey(endingAt: usageKey + 7, in: event)
        else { return nil }
        return decode(event, usage)
    }

    /// The usage of a non-streamed response body: its last `"usage"` member (engines put it at the end),
    /// without decoding the rest of the body.
    static func inResponse(_ body: UnsafeRawBufferPointer) -> ReportedUsage? {
        guard let usageKey = JSONBytes.lastIndex(of: #""usage""#, in: body),
            let usage = JSONBytes.valueAfterKey(endingAt: usageKey + 7, in: body)
        else { return nil }
        return decode(body, usage)
    }
}
