// TEMPORARY STUB — delete this file when the `hashing` branch (PrefixHasher, HashNamespace, ChatMessage in
// the PrefixRouter library) is merged into main. It mirrors the agreed API names so that the trace readers
// and the synthetic workload compile against them unchanged; its hashes are NOT the library's.
public import PrefixRouter

/// STUB of the library's hash namespace (model, adapter, cache salt folded into the root).
public struct HashNamespace: Hashable, Sendable {
    var root: UInt64

    /// STUB.
    public init(model: String? = nil, adapter: String? = nil, cacheSalt: String? = nil) {
        let text = [model ?? "", adapter ?? "", cacheSalt ?? ""].joined(separator: "\u{1F}")
        root = XXH3Hash.hash(Array(text.utf8), seed: 0x4E41_4D45)
    }
}

/// STUB of the library's chat message.
public struct ChatMessage: Codable, Hashable, Sendable {
    /// The role.
    public var role: String
    /// The text content.
    public var content: String
    /// An optional name.
    public var name: String?

    /// STUB.
    public init(role: String, content: String, name: String? = nil) {
        self.role = role
        self.content = content
        self.name = name
    }
}

/// STUB of the library's prefix hasher: chained XXH3 over little-endian u32 tokens, partial tail dropped.
public struct PrefixHasher: Sendable {
    /// Tokens per block.
    public let blockSize: Int
    let namespace: HashNamespace

    /// STUB.
    public init(blockSize: Int = 16, namespace: HashNamespace = .init()) throws(PrefixRouterError) {
        guard blockSize >= 1 else { throw PrefixRouterError(.invalidBlockSize, "blockSize: expected >= 1, found \(blockSize)") }
        self.blockSize = blockSize
        self.namespace = namespace
    }

    /// STUB.
    public func blockHashes(of tokens: [UInt32]) -> [BlockHash] {
        var hashes: [BlockHash] = []
        var parent = namespace.root
        var start = 0
        while start + blockSize <= tokens.count {
            parent = tokens[start..<(start + blockSize)].withUnsafeBytes { XXH3Hash.hash($0, seed: parent) }
            hashes.append(BlockHash(parent))
            start += blockSize
        }
        return hashes
    }

    /// STUB.
    public func blockHashes(of tokens: [Int]) throws(PrefixRouterError) -> [BlockHash] {
        var narrow: [UInt32] = []
        narrow.reserveCapacity(tokens.count)
        for token in tokens {
            guard let value = UInt32(exactly: token) else {
                throw PrefixRouterError(.invalidInput, "token: expected 0...\(UInt32.max), found \(token)")
            }
            narrow.append(value)
        }
        return blockHashes(of: narrow)
    }

    /// STUB: 4 bytes per pseudo-token.
    public func blockHashes(ofText text: String) -> [BlockHash] {
        let bytes = Array(text.utf8)
        var tokens: [UInt32] = []
        tokens.reserveCapacity(bytes.count / 4)
        var index = 0
        while index + 4 <= bytes.count {
            tokens.append(UInt32(bytes[index]) | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2]) << 16 | UInt32(bytes[index + 3]) << 24)
            index += 4
        }
        return blockHashes(of: tokens)
    }

    /// STUB: role-tagged serialization.
    public func blockHashes(ofChat messages: [ChatMessage]) -> [BlockHash] {
        blockHashes(ofText: messages.map { "<\($0.role)>\($0.name ?? "")\u{1F}\($0.content)" }.joined(separator: "\u{1E}"))
    }
}
