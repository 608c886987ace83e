/// A prompt reduced to what the engine needs: its token estimate and the chained hashes of its blocks.
///
/// Blocks are ``MockEngineConfiguration/prefixBlockCharacters`` bytes of the prompt's UTF-8 text, hashed with
/// FNV-1a 64 chained from the previous block's hash (seeded with the model name), so that a block's hash names
/// its whole prefix, as vLLM's block hashes do. This is deliberately not PrefixRouter's hasher: affinity
/// tests must not confirm themselves. As in vLLM, the block holding the last prompt token is never looked up
/// or cached (the last token is always computed).
struct PromptBlocks: Sendable {
    /// The prompt's estimated token count: UTF-8 bytes ÷ 4, rounded up (token-id prompts: one per id).
    let tokens: Int
    /// The chained hashes of the prompt's cacheable full blocks, first block first.
    let hashes: [UInt64]

    /// Reduces a prompt given as bytes, where every 4 bytes count as one token.
    init(bytes: [UInt8], model: String, blockBytes: Int) {
        self.tokens = Self.estimateTokens(byteCount: bytes.count)
        let cacheable = bytes.isEmpty ? 0 : (bytes.count - 1) / blockBytes
        var hashes: [UInt64] = []
        hashes.reserveCapacity(cacheable)
        var parent = FNV1a64.hash(model.utf8)
        for block in 0..<cacheable {
            var hasher = FNV1a64(seed: parent)
            hasher.combine(bytes[(block * blockBytes)..<((block + 1) * blockBytes)])
            parent = hasher.value
            hashes.append(parent)
        }
        self.hashes = hashes
    }

    /// The token estimate of a prompt of `byteCount` bytes: ÷ 4, rounded up.
    static func estimateTokens(byteCount: Int) -> Int {
        (byteCount + 3) / 4
    }
}

/// The 64-bit Fowler–Noll–Vo 1a hash: deterministic across processes, unlike Swift's `Hasher`.
struct FNV1a64: Sendable {
    private static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    private static let prime: UInt64 = 0x0000_0100_0000_01b3

    /// The hash of the bytes combined so far.
    private(set) var value: UInt64

    /// Starts from the offset basis, or from a previous hash to chain blocks.
    init(seed: UInt64? = nil) {
        value = Self.offsetBasis
        if let seed {
            withUnsafeBytes(of: seed.littleEndian) { combine($0) }
        }
    }

    /// Mixes bytes into the hash.
    mutating func combine(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            value = (value ^ UInt64(byte)) &* Self.prime
        }
    }

    /// The hash of one sequence of bytes.
    static func hash(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var hasher = FNV1a64()
        hasher.combine(bytes)
        return hasher.value
    }
}
