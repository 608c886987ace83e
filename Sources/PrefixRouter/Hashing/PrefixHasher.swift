/// Turns a prompt into chained 64-bit block hashes, the prefix identity that ``PrefixAffinity`` and the
/// other prefix-aware strategies route on.
///
/// ### Token ids
/// Block *i* covers tokens `[i·B, (i+1)·B)` with `B =` ``blockSize``. Its hash is
///
/// ```
/// h_i    = XXH3_64bits_withSeed(little-endian UInt32 bytes of block i, seed: h_{i−1})
/// h_{−1} = namespace.root        (see HashNamespace)
/// ```
///
/// so `h_i` identifies the whole prefix `[0, (i+1)·B)`: two prompts share their first *k* hashes exactly when
/// they share their first *k·B* tokens (up to 64-bit collisions) and the namespace. Hashes are identical
/// across processes, runs and platforms (big-endian hosts byte-swap each block into a stack buffer first);
/// they never involve Swift's `Hasher`.
///
/// ### Text without a tokenizer
/// ``blockHashes(ofText:)`` hashes UTF-8 bytes in chunks of `4·B` bytes (4 bytes ≈ 1 token), chained the same
/// way from the same root. Chat requests go through ``ChatSerialization`` first, so tools, roles and message
/// boundaries are part of the bytes.
///
/// ### Schema
/// The root encoding, the chat serialization and the ring key mixing form one versioned schema
/// (``HashSchema/version``): gateways that share a fleet must run the same version. Creating a hasher
/// checks once per process that the loaded libxxhash computes the schema's XXH3 values
/// (``HashSchema/validateLibrary()``).
///
/// ### The tail block
/// By default (``TailPolicy/dropPartial``) a final block shorter than `B` tokens (or `4·B` bytes) is not
/// hashed: inference engines (vLLM, SGLang, Dynamo) cache full blocks only, so a partial block can never be a
/// cache hit. ``TailPolicy/includePartial`` hashes it too, over its actual (shorter) length, which lets very
/// short prompts carry a key; its hash does not correspond to any block an engine caches.
///
/// ### Cost
/// One XXH3 call per block (O(prompt length) bytes hashed in total), no per-block allocation: hash into a
/// caller-provided buffer with ``hashBlocks(_:into:)`` (no allocation at all on little-endian hosts), or get
/// one array per prompt from the `blockHashes` methods. Contiguous token storage is hashed in place.
public struct PrefixHasher: Sendable {
    /// What happens to a final block shorter than ``blockSize``.
    public enum TailPolicy: Hashable, Sendable {
        /// Hash full blocks only (the default; engines cache full blocks only).
        case dropPartial
        /// Also hash the final partial block, over its actual length. Engines do not cache that block.
        case includePartial
    }

    /// The allowed range of ``blockSize``.
    public static let blockSizeRange: ClosedRange<Int> = 1...65_536

    /// Tokens per block (vLLM's default is 16). Text is hashed in chunks of `4 × blockSize` bytes.
    public let blockSize: Int
    /// The model, adapter and cache salt folded into the chain root.
    public let namespace: HashNamespace
    /// Whether a final partial block is hashed.
    public let tailPolicy: TailPolicy
    /// `namespace.root`, computed once.
    @usableFromInline
    let root: UInt64

    /// Creates a hasher.
    ///
    /// - Parameters:
    ///   - blockSize: tokens per block, in ``blockSizeRange``; match your engine's block size (vLLM 16).
    ///   - namespace: the model, adapter and cache salt; requests in different namespaces never share hashes.
    ///   - tailPolicy: whether a final partial block is hashed; ``TailPolicy/dropPartial`` by default.
    /// - Throws: ``PrefixRouterError`` with code `.invalidBlockSize` when `blockSize` is outside
    ///   ``blockSizeRange``; with code `.invalidParameter` naming libxxhash when the loaded library is older
    ///   than 0.8.0 or does not compute XXH3 as specified (see ``HashSchema/validateLibrary()``).
    public init(
        blockSize: Int = 16,
        namespace: HashNamespace = HashNamespace(),
        tailPolicy: TailPolicy = .dropPartial
    ) throws(PrefixRouterError) {
        try HashSchema.validateLibrary()
        guard Self.blockSizeRange.contains(blockSize) else {
            throw PrefixRouterError(
                .invalidBlockSize,
                "PrefixHasher.blockSize: expected \(Self.blockSizeRange.lowerBound)...\(Self.blockSizeRange.upperBound), found \(blockSize)"
            )
        }
        self.blockSize = blockSize
        self.namespace = namespace
        self.tailPolicy = tailPolicy
        self.root = namespace.root
    }

    /// The number of block hashes a prompt of `tokenCount` tokens yields under ``tailPolicy``: `⌊n / B⌋`
    /// with ``TailPolicy/dropPartial``, `⌈n / B⌉` with ``TailPolicy/includePartial``; 0 for `n ≤ 0`. O(1).
    public func blockCount(forTokenCount tokenCount: Int) -> Int {
        Self.chunkCount(forLength: tokenCount, chunk: blockSize, tailPolicy: tailPolicy)
    }

    /// The number of chunks of `chunk` elements in `length` elements under `tailPolicy`. O(1).
    static func chunkCount(forLength length: Int, chunk: Int, tailPolicy: TailPolicy) -> Int {
        guard length > 0 else { return 0 }
        let full = length / chunk
        switch tailPolicy {
        case .dropPartial: return full
        case .includePartial: return length % chunk == 0 ? full : full + 1
        }
    }

    /// Chains XXH3 over consecutive `chunk`-byte slices of `bytes`, writing at most `output.count` hashes.
    ///
    /// Shared by token hashing on little-endian hosts (a block of B tokens is exactly `4·B` bytes) and by
    /// text hashing. Returns the number of hashes written. O(bytes hashed), no allocation.
    func chainBytes(
        _ bytes: UnsafeRawBufferPointer,
        chunk: Int,
        into output: UnsafeMutableBufferPointer<BlockHash>
    ) -> Int {
        let count = Swift.min(
            Self.chunkCount(forLength: bytes.count, chunk: chunk, tailPolicy: tailPolicy),
            output.count
        )
        var seed = root
        for index in 0..<count {
            let start = index * chunk
            let end = Swift.min(start + chunk, bytes.count)
            seed = XXH3.hash(UnsafeRawBufferPointer(rebasing: bytes[start..<end]), seed: seed)
            output[index] = BlockHash(seed)
        }
        return count
    }

    /// Allocates one array of `capacity` hashes and fills it with `fill` (which returns how many it wrote).
    @inlinable
    static func collect(
        capacity: Int,
        _ fill: (UnsafeMutableBufferPointer<BlockHash>) -> Int
    ) -> [BlockHash] {
        guard capacity > 0 else { return [] }
        return [BlockHash](unsafeUninitializedCapacity: capacity) { buffer, initializedCount in
            initializedCount = fill(buffer)
        }
    }
}
