@_spi(Internals) import PrefixRouter

/// An independent re-implementation of the documented hashing formats, built byte by byte with shifts and
/// calling only ``XXH3Hash``, so that tests compare ``PrefixHasher`` against the specification rather than
/// against itself.
enum HashingReference {
    /// The documented schema version (the first byte of the root encoding and of the chat serialization).
    static let version: UInt8 = 2
    /// The documented fixed seed of the namespace root (ASCII "PREFIXNS").
    static let rootSeed: UInt64 = 0x5052_4546_4958_4E53
    /// The documented fixed seed of the ring key mixing (ASCII "PREFIXRK").
    static let ringKeySeed: UInt64 = 0x5052_4546_4958_524B

    /// `value` as 8 little-endian bytes, built with shifts.
    static func le64(_ value: Int) -> [UInt8] { le64(UInt64(value)) }

    /// `value` as 8 little-endian bytes, built with shifts.
    static func le64(_ value: UInt64) -> [UInt8] {
        (0..<8).map { UInt8((value >> UInt64(8 * $0)) & 0xFF) }
    }

    /// Token ids as little-endian bytes, built with shifts.
    static func leBytes(_ tokens: [UInt32]) -> [UInt8] {
        tokens.flatMap { token in (0..<4).map { UInt8((token >> UInt32(8 * $0)) & 0xFF) } }
    }

    /// The documented root encoding of a namespace under schema `version`, hashed.
    static func root(model: String, adapter: String?, cacheSalt: String?, version: UInt8 = version) -> UInt64 {
        var bytes: [UInt8] = [version, 0x01] + le64(model.utf8.count) + Array(model.utf8)
        for field in [adapter, cacheSalt] {
            if let field {
                bytes += [0x01] + le64(field.utf8.count) + Array(field.utf8)
            } else {
                bytes.append(0x00)
            }
        }
        return XXH3Hash.hash(bytes, seed: rootSeed)
    }

    /// The documented ring key mixing: XXH3-64 of the key's 8 little-endian bytes, seeded "PREFIXRK".
    static func ringPosition(_ key: UInt64) -> UInt64 {
        XXH3Hash.hash(le64(key), seed: ringKeySeed)
    }

    /// Chains XXH3 over `chunk`-byte slices of `bytes`, seeded with `root`; the tail is hashed if `includeTail`.
    static func chain(_ bytes: [UInt8], chunk: Int, root: UInt64, includeTail: Bool = false) -> [BlockHash] {
        var hashes: [BlockHash] = []
        var seed = root
        var start = 0
        while start < bytes.count {
            let end = min(start + chunk, bytes.count)
            if end - start < chunk && !includeTail { break }
            seed = XXH3Hash.hash(Array(bytes[start..<end]), seed: seed)
            hashes.append(BlockHash(seed))
            start = end
        }
        return hashes
    }

    // MARK: Chat serialization, version 2

    /// A minimal RFC 8785 writer for the JSON the tests use (integers below 2^53 only), written separately
    /// from ``JSONValue/canonicalJSON``: members sorted by UTF-16 code units, strings escaped per scalar.
    static func canonicalJSON(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .number(let number):
            guard let integer = Int64(exactly: number), integer.magnitude < (1 << 53) else { return "<unsupported>" }
            return String(integer)
        case .string(let string):
            var out = "\""
            for scalar in string.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\u{8}": out += "\\b"
                case "\t": out += "\\t"
                case "\n": out += "\\n"
                case "\u{C}": out += "\\f"
                case "\r": out += "\\r"
                default:
                    if scalar.value < 0x20 {
                        let hex = String(scalar.value, radix: 16)
                        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                    } else {
                        out.unicodeScalars.append(scalar)
                    }
                }
            }
            return out + "\""
        case .array(let elements):
            return "[" + elements.map(canonicalJSON).joined(separator: ",") + "]"
        case .object(let members):
            let sorted = members.sorted { Array($0.key.utf16).lexicographicallyPrecedes(Array($1.key.utf16)) }
            return "{"
                + sorted.map { canonicalJSON(.string($0.key)) + ":" + canonicalJSON($0.value) }
                .joined(separator: ",") + "}"
        }
    }

    /// The documented rendering of a message's content: the string, or the parts joined with "\n", each
    /// non-text part as 0xFE and the 16 lowercase hex digits of XXH3-64 (seed 0) of its canonical JSON.
    static func contentBytes(_ content: ChatContent?) -> [UInt8] {
        guard let content else { return [] }
        switch content {
        case .text(let text): return Array(text.utf8)
        case .parts(let parts):
            var bytes: [UInt8] = []
            for (index, part) in parts.enumerated() {
                if index > 0 { bytes.append(0x0A) }
                switch part {
                case .text(let text): bytes += Array(text.utf8)
                case .other(let json):
                    let digest = XXH3Hash.hash(Array(canonicalJSON(json).utf8), seed: 0)
                    let hex = String(digest, radix: 16)
                    bytes += [0xFE] + Array((String(repeating: "0", count: 16 - hex.count) + hex).utf8)
                }
            }
            return bytes
        }
    }

    /// The documented chat serialization (version 2), built by hand.
    static func chatBytes(_ messages: [ChatMessage], tools: [JSONValue] = []) -> [UInt8] {
        var bytes: [UInt8] = [version]
        for tool in tools { bytes += [0xF5] + Array(canonicalJSON(tool).utf8) + [0xFF] }
        for message in messages {
            bytes += [0xF6] + Array(message.role.utf8) + [0xFF]
            if let name = message.name { bytes += [0xF7] + Array(name.utf8) + [0xFF] }
            if let id = message.toolCallID { bytes += [0xF8] + Array(id.utf8) + [0xFF] }
            bytes += [0xF9] + contentBytes(message.content) + [0xFF]
            for call in message.toolCalls ?? [] { bytes += [0xFA] + Array(canonicalJSON(call).utf8) + [0xFF] }
        }
        return bytes
    }

    /// One message as a version-2 serialization records it.
    struct DecodedMessage: Hashable, CustomStringConvertible {
        var role: [UInt8]
        var name: [UInt8]?
        var toolCallID: [UInt8]?
        var content: [UInt8]
        var toolCalls: [[UInt8]] = []

        var description: String { "\(String(decoding: role, as: UTF8.self)): \(content.count) content bytes" }

        /// What `message` should decode to.
        init(_ message: ChatMessage) {
            role = Array(message.role.utf8)
            name = message.name.map { Array($0.utf8) }
            toolCallID = message.toolCallID.map { Array($0.utf8) }
            content = contentBytes(message.content)
            toolCalls = (message.toolCalls ?? []).map { Array(canonicalJSON($0).utf8) }
        }

        init(role: [UInt8]) {
            self.role = role
            self.content = []
        }
    }

    /// Decodes a version-2 chat serialization from the front, as its documentation describes: each field is a
    /// tag byte and the bytes up to the next 0xFF. Nil if the bytes are malformed (a tag out of place, a
    /// missing content field, an unterminated field). A successful round trip shows that the framing is
    /// unambiguous.
    static func decodeChat(_ bytes: [UInt8]) -> (tools: [[UInt8]], messages: [DecodedMessage])? {
        guard bytes.first == version else { return nil }
        var index = 1
        var tools: [[UInt8]] = []
        var messages: [DecodedMessage] = []
        var sawContent = true
        while index < bytes.count {
            let tag = bytes[index]
            guard let end = bytes[(index + 1)...].firstIndex(of: 0xFF) else { return nil }
            let field = Array(bytes[(index + 1)..<end])
            index = end + 1
            switch tag {
            case 0xF5:
                guard messages.isEmpty else { return nil }
                tools.append(field)
            case 0xF6:
                guard sawContent else { return nil }
                messages.append(DecodedMessage(role: field))
                sawContent = false
            case 0xF7:
                guard !messages.isEmpty, !sawContent, messages[messages.count - 1].name == nil,
                    messages[messages.count - 1].toolCallID == nil
                else { return nil }
                messages[messages.count - 1].name = field
            case 0xF8:
                guard !messages.isEmpty, !sawContent, messages[messages.count - 1].toolCallID == nil else { return nil }
                messages[messages.count - 1].toolCallID = field
            case 0xF9:
                guard !messages.isEmpty, !sawContent else { return nil }
                messages[messages.count - 1].content = field
                sawContent = true
            case 0xFA:
                guard !messages.isEmpty, sawContent else { return nil }
                messages[messages.count - 1].toolCalls.append(field)
            default:
                return nil
            }
        }
        return sawContent ? (tools, messages) : nil
    }

    // MARK: Chat serialization, version 1 (superseded; kept to show what version 2 fixes)

    /// The version-1 chat serialization: each string's bytes followed by its LE64 length.
    static func chatBytesV1(_ messages: [ChatMessage]) -> [UInt8] {
        var bytes: [UInt8] = [0x01]
        for message in messages {
            bytes += Array(message.role.utf8) + le64(message.role.utf8.count)
            if let name = message.name {
                bytes += Array(name.utf8) + le64(name.utf8.count) + [0x01]
            } else {
                bytes.append(0x00)
            }
            let content = contentBytes(message.content)
            bytes += content + le64(content.count)
        }
        return bytes
    }

    /// Seeded random token ids.
    static func randomTokens(count: Int, seed: UInt64) -> [UInt32] {
        var random = RandomSource(seed: seed)
        return (0..<count).map { _ in UInt32(truncatingIfNeeded: random.next()) }
    }
}
