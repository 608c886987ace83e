/// The canonical byte serialization of a chat request that ``PrefixHasher/blockHashes(ofChat:)`` hashes.
///
/// ### Format, version 1 (stable: changing it changes every chat hash, so a change gets a new version byte)
///
/// ```
/// 0x01                                        format version (byte 0)
/// then for each message, in order:
///   role    UTF-8 bytes ‖ LE64(role byte count)
///   name    0x00                              when name is nil
///           UTF-8 bytes ‖ LE64(byte count) ‖ 0x01   when name is present (possibly empty)
///   content UTF-8 bytes ‖ LE64(content byte count)
/// ```
///
/// `LE64` is the count as 8 little-endian bytes. Every field is followed by its length (or, for the optional
/// name, ends with a tag byte), so the bytes decode unambiguously from the end backwards: the last 8 bytes
/// give the last content's length, the byte before that content says whether a name precedes it, and so on
/// down to the version byte. Hence two different message lists never serialize alike, whatever their
/// strings contain: `[user:"ab"]`, `[user:"a", user:"b"]`, `[system:"a", user:"b"]` and `[user:"a\0b"]`
/// all differ, and no content can forge a role boundary.
///
/// ### Why lengths follow the bytes
/// The layout is built so that prefixes survive, like the engine's token prefix does:
/// - No message count up front: a conversation that grows by appending messages keeps its earlier bytes
///   (and therefore its earlier block hashes) exactly.
/// - Each string's bytes come before its length: two requests whose last message starts with the same long
///   document share the blocks of that document; a length *prefix* would make them diverge at the length.
///
/// Content-parts arrays, tool calls and other message fields are out of scope (see ``ChatMessage``).
public enum ChatSerialization {
    /// The version byte that opens every serialization.
    public static let formatVersion: UInt8 = 0x01

    /// The canonical bytes of `messages` (see the type's documentation for the format).
    ///
    /// - Complexity: O(total UTF-8 bytes); one allocation, sized exactly.
    public static func canonicalBytes(of messages: [ChatMessage]) -> [UInt8] {
        var capacity = 1
        for message in messages {
            capacity += message.role.utf8.count + 8 + message.content.utf8.count + 8 + 1
            if let name = message.name { capacity += name.utf8.count + 8 }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(capacity)
        bytes.append(formatVersion)
        for message in messages {
            appendField(message.role, to: &bytes)
            if let name = message.name {
                appendField(name, to: &bytes)
                bytes.append(0x01)
            } else {
                bytes.append(0x00)
            }
            appendField(message.content, to: &bytes)
        }
        return bytes
    }

    private static func appendField(_ field: String, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: field.utf8)
        ByteFraming.appendLength(field.utf8.count, to: &bytes)
    }
}
