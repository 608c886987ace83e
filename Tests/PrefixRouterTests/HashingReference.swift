@_spi(Internals) import PrefixRouter

/// An independent re-implementation of the documented hashing formats, built byte by byte with shifts and
/// calling only ``XXH3Hash``, so that tests compare ``PrefixHasher`` against the specification rather than
/// against itself.
enum HashingReference {
    /// The documented fixed seed of the namespace root (ASCII "PREFIXNS").
    static let rootSeed: UInt64 = 0x5052_4546_4958_4E53

    /// `value` as 8 little-endian bytes, built with shifts.
    static func le64(_ value: Int) -> [UInt8] {
        (0..<8).map { UInt8((UInt64(value) >> UInt64(8 * $0)) & 0xFF) }
    }

    /// Token ids as little-endian bytes, built with shifts.
    static func leBytes(_ tokens: [UInt32]) -> [UInt8] {
        tokens.flatMap { token in (0..<4).map { UInt8((token >> UInt32(8 * $0)) & 0xFF) } }
    }

    /// The documented root encoding of a namespace, hashed.
    static func root(model: String, adapter: String?, cacheSalt: String?) -> UInt64 {
        var bytes: [UInt8] = [0x01, 0x01] + le64(model.utf8.count) + Array(model.utf8)
        for field in [adapter, cacheSalt] {
            if let field {
                bytes += [0x01] + le64(field.utf8.count) + Array(field.utf8)
            } else {
                bytes.append(0x00)
            }
        }
        return XXH3Hash.hash(bytes, seed: rootSeed)
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

    /// The documented chat serialization (version 1), built by hand.
    static func chatBytes(_ messages: [ChatMessage]) -> [UInt8] {
        var bytes: [UInt8] = [0x01]
        for message in messages {
            bytes += Array(message.role.utf8) + le64(message.role.utf8.count)
            if let name = message.name {
                bytes += Array(name.utf8) + le64(name.utf8.count) + [0x01]
            } else {
                bytes.append(0x00)
            }
            bytes += Array(message.content.utf8) + le64(message.content.utf8.count)
        }
        return bytes
    }

    /// Decodes a version-1 chat serialization from the end backwards, as its documentation describes; nil if
    /// the bytes are malformed. A successful round trip shows that the framing is unambiguous.
    static func decodeChat(_ bytes: [UInt8]) -> [ChatMessage]? {
        guard bytes.first == 0x01 else { return nil }
        var end = bytes.count
        func readField() -> String? {
            guard end - 8 >= 1 else { return nil }
            var length = 0
            for index in 0..<8 { length |= Int(bytes[end - 8 + index]) << (8 * index) }
            end -= 8
            guard length >= 0, end - length >= 1 else { return nil }
            defer { end -= length }
            return String(decoding: bytes[(end - length)..<end], as: UTF8.self)
        }
        var messages: [ChatMessage] = []
        while end > 1 {
            guard let content = readField(), end - 1 >= 1 else { return nil }
            let tag = bytes[end - 1]
            end -= 1
            var name: String?
            switch tag {
            case 0x00: name = nil
            case 0x01:
                guard let decoded = readField() else { return nil }
                name = decoded
            default: return nil
            }
            guard let role = readField() else { return nil }
            messages.append(ChatMessage(role: role, content: content, name: name))
        }
        return messages.reversed()
    }

    /// Seeded random token ids.
    static func randomTokens(count: Int, seed: UInt64) -> [UInt32] {
        var random = RandomSource(seed: seed)
        return (0..<count).map { _ in UInt32(truncatingIfNeeded: random.next()) }
    }
}
