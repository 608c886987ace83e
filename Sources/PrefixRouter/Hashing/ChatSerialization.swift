/// The canonical byte serialization of a chat request that ``PrefixHasher/blockHashes(ofChat:tools:)`` hashes.
///
/// ### Format, schema version 2 (stable: changing it changes chat hashes, so a change gets a new version)
///
/// Strings are written as their UTF-8 bytes. Well-formed UTF-8 never contains the bytes `0xF5`–`0xFF`
/// (RFC 3629, section 1), so those bytes frame the fields and no string can imitate them:
///
/// ```
/// 0x02                                         schema version (HashSchema.version), byte 0
/// for each tool, in request order:             0xF5 ‖ canonical JSON of the tool ‖ 0xFF
/// for each message, in order:
///   0xF6 ‖ role ‖ 0xFF
///   0xF7 ‖ name ‖ 0xFF                         when name is present
///   0xF8 ‖ tool_call_id ‖ 0xFF                 when toolCallID is present
///   0xF9 ‖ content ‖ 0xFF
///   0xFA ‖ canonical JSON of the call ‖ 0xFF   for each tool call, in order
/// ```
///
/// *Canonical JSON* is ``JSONValue/canonicalJSON`` (RFC 8785), whose bytes are UTF-8 too. *content* is the
/// string; or, for content parts, the parts joined with `"\n"` (as vLLM's `vllm/entrypoints/chat_utils.py`
/// joins text parts), a text part contributing its text and any other part the 17-byte marker
/// `0xFE ‖ 16 lowercase hexadecimal digits of XXH3-64(canonical JSON of the part, seed 0)`, so one image
/// differs from another and from any text. A single text part therefore serializes exactly like the plain
/// string, and `null` content, `""` and `[]` all serialize as empty content.
///
/// ### Unambiguous from the first byte
/// Every field opens with a tag byte that says what it is and runs to the first `0xFF`, which no string
/// contains. Reading from the front therefore recovers the tools and the messages exactly, and the bytes of
/// one request are a prefix of another's only if its tools are the same and its messages are a leading
/// sub-list of the other's. No content, name or tool argument can forge a role boundary anywhere in the
/// bytes: two requests that differ in where a message ends differ at that byte, so every block from there on
/// differs.
///
/// ### Prefixes survive, as the engine's token prefix does
/// - There is no message count and no length field: a conversation that grows by appending messages keeps
///   its earlier bytes, hence the hashes of every full block of its earlier turns.
/// - Each field's bytes come first and its end marker last, so two requests whose last messages start with
///   the same long document share the blocks of that document, as their rendered prompts share its tokens.
/// - Tools come first, as chat templates render them before the conversation: requests with different tool
///   sets share no block past the first difference in their tool definitions.
public enum ChatSerialization {
    /// The version byte that opens every serialization: ``HashSchema/version``.
    public static let formatVersion: UInt8 = HashSchema.version

    /// The framing bytes (none of them occurs in UTF-8).
    enum Tag {
        static let tool: UInt8 = 0xF5
        static let role: UInt8 = 0xF6
        static let name: UInt8 = 0xF7
        static let toolCallID: UInt8 = 0xF8
        static let content: UInt8 = 0xF9
        static let toolCall: UInt8 = 0xFA
        static let nonTextPart: UInt8 = 0xFE
        static let end: UInt8 = 0xFF
    }

    /// The canonical bytes of a chat request's `messages` and `tools` (see the type's documentation).
    ///
    /// - Parameters:
    ///   - messages: the request's `messages`, in order.
    ///   - tools: the request's `tools` array (tool definitions), in order; empty when the request has none.
    /// - Complexity: O(total bytes), plus sorting each JSON object's member names. Text-only messages without
    ///   tools take one allocation, sized exactly; JSON members and non-text parts add temporary ones.
    public static func canonicalBytes(of messages: [ChatMessage], tools: [JSONValue] = []) -> [UInt8] {
        var capacity = 1
        for message in messages {
            capacity += 4 + message.role.utf8.count + contentByteCount(message.content)
            if let name = message.name { capacity += 2 + name.utf8.count }
            if let id = message.toolCallID { capacity += 2 + id.utf8.count }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(capacity)
        bytes.append(formatVersion)
        for tool in tools {
            bytes.append(Tag.tool)
            tool.appendCanonicalJSON(to: &bytes)
            bytes.append(Tag.end)
        }
        for message in messages {
            appendField(Tag.role, message.role, to: &bytes)
            if let name = message.name { appendField(Tag.name, name, to: &bytes) }
            if let id = message.toolCallID { appendField(Tag.toolCallID, id, to: &bytes) }
            bytes.append(Tag.content)
            appendContent(message.content, to: &bytes)
            bytes.append(Tag.end)
            for call in message.toolCalls ?? [] {
                bytes.append(Tag.toolCall)
                call.appendCanonicalJSON(to: &bytes)
                bytes.append(Tag.end)
            }
        }
        return bytes
    }

    private static func appendField(_ tag: UInt8, _ field: String, to bytes: inout [UInt8]) {
        bytes.append(tag)
        bytes.append(contentsOf: field.utf8)
        bytes.append(Tag.end)
    }

    /// The number of bytes ``appendContent(_:to:)`` writes. O(parts).
    private static func contentByteCount(_ content: ChatContent?) -> Int {
        switch content {
        case nil: return 0
        case .text(let text)?: return text.utf8.count
        case .parts(let parts)?:
            var count = Swift.max(0, parts.count - 1)
            for part in parts {
                switch part {
                case .text(let text): count += text.utf8.count
                case .other: count += 17
                }
            }
            return count
        }
    }

    private static func appendContent(_ content: ChatContent?, to bytes: inout [UInt8]) {
        switch content {
        case nil: return
        case .text(let text)?: bytes.append(contentsOf: text.utf8)
        case .parts(let parts)?:
            for (index, part) in parts.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: "\n")) }
                switch part {
                case .text(let text): bytes.append(contentsOf: text.utf8)
                case .other(let json): appendMarker(of: json, to: &bytes)
                }
            }
        }
    }

    /// `0xFE` and the 16 lowercase hexadecimal digits of XXH3-64 (seed 0) of the part's canonical JSON.
    private static func appendMarker(of part: JSONValue, to bytes: inout [UInt8]) {
        var json: [UInt8] = []
        part.appendCanonicalJSON(to: &json)
        let digest = json.withUnsafeBytes { XXH3.hash($0, seed: 0) }
        bytes.append(Tag.nonTextPart)
        let hex = Array("0123456789abcdef".utf8)
        for shift in stride(from: 60, through: 0, by: -4) {
            bytes.append(hex[Int((digest >> UInt64(shift)) & 0xF)])
        }
    }
}
