import NIOCore

/// The one change the gateway may make to a request body: asking the engine for the final usage chunk of a
/// stream (`"stream_options":{"include_usage":true}`), so that it learns `usage.prompt_tokens_details
/// .cached_tokens` even when the client did not ask for usage. The relay then removes that chunk
/// (``UsageFilter``), so the client sees the stream it asked for.
///
/// The edit is minimal and byte-preserving: every other byte of the body stays where the client put it.
/// - No `stream_options` member: `"stream_options":{"include_usage":true},` is inserted right after the
///   body's opening `{`.
/// - `"stream_options": null`, `{}` or `{"include_usage": false}` (or null): that value alone is replaced by
///   `{"include_usage":true}`.
///
/// Anything else is left alone (nil): `stream_options` with other members (vLLM's `continuous_usage_stats`
/// would then put usage in every chunk, which the client did not ask for), a duplicated `stream_options`,
/// an escaped top-level key (which could spell `stream_options`), or a body that is not an object. The
/// request is then forwarded unchanged and its cached tokens are not learned.
enum StreamUsageRequest {
    private static let options = #"{"include_usage":true}"#
    private static let member = #""stream_options":{"include_usage":true}"#

    /// `body` with `stream_options.include_usage` set to true, or nil when it cannot be edited safely.
    static func addingIncludeUsage(to body: ByteBuffer) -> ByteBuffer? {
        let edit: (range: Range<Int>, replacement: String)? = body.withUnsafeReadableBytes { bytes in
            let start = JSONBytes.skipWhitespace(bytes, 0)
            guard let (members, _) = JSONBytes.members(ofObjectAt: start, in: bytes) else { return nil }
            var found: JSONBytes.Member?
            for item in members {
                if bytes[item.key].contains(JSONBytes.backslash) { return nil }
                if JSONBytes.equals(bytes, item.key, "stream_options") {
                    guard found == nil else { return nil }
                    found = item
                }
            }
            guard let found else {
                let insertion = start + 1
                return (insertion..<insertion, members.isEmpty ? member : member + ",")
            }
            let value = found.value
            if JSONBytes.equals(bytes, value, "null") { return (value, options) }
            guard let (inner, _) = JSONBytes.members(ofObjectAt: value.lowerBound, in: bytes) else { return nil }
            for item in inner {
                guard JSONBytes.equals(bytes, item.key, "include_usage") else { return nil }
                guard JSONBytes.equals(bytes, item.value, "false") || JSONBytes.equals(bytes, item.value, "null")
                else { return nil }
            }
            return (value, options)
        }
        guard let edit else { return nil }
        var edited = ByteBuffer()
        edited.reserveCapacity(body.readableBytes + edit.replacement.utf8.count)
        let base = body.readerIndex
        if let before = body.getSlice(at: base, length: edit.range.lowerBound) {
            edited.writeImmutableBuffer(before)
        }
        edited.writeString(edit.replacement)
        if let after = body.getSlice(
            at: base + edit.range.upperBound,
            length: body.readableBytes - edit.range.upperBound
        ) {
            edited.writeImmutableBuffer(after)
        }
        return edited
    }
}
