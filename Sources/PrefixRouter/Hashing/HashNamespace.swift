/// The scope of a prefix-hash chain: the model, the LoRA adapter and the cache salt a prompt is served with.
///
/// Two requests can share KV-cache blocks only when they run on the same model with the same adapter and the
/// same `cache_salt` (vLLM's per-tenant cache isolation), so all three are folded into the chain root ``root``
/// that seeds the first block hash. Equal namespaces give equal roots in every process, run and platform;
/// different namespaces give different roots (up to 64-bit collisions), hence disjoint hash chains.
///
/// ### Root encoding (fixed for a schema version)
/// `root = XXH3-64(encoding, seed: ``rootSeed``)`, where `encoding` is
///
/// ```
/// 0x02                                   schema version (HashSchema.version; 0x01 in version 1)
/// 0x01 ‖ LE64(n) ‖ n UTF-8 bytes         model (always present)
/// 0x00  or  0x01 ‖ LE64(n) ‖ n bytes     adapter: absent, or present
/// 0x00  or  0x01 ‖ LE64(n) ‖ n bytes     cacheSalt: absent, or present
/// ```
///
/// Every field is length-prefixed, so no choice of strings can make two different namespaces encode alike
/// (`model "ab", adapter "c"` differs from `model "a", adapter "bc"`). An absent field (`nil`) differs from
/// an empty one (`""`): gateways that decode a missing `cache_salt` should pass `nil`.
///
/// The root never involves Swift's `Hasher`, whose seed changes per process. Because the schema version is
/// the first encoded byte, the roots of one namespace under two schema versions differ, and so does every
/// chained hash below them: hashes of different versions never coincide (up to 64-bit collisions).
public struct HashNamespace: Hashable, Sendable {
    /// The model name as the gateway sees it (for example `"meta-llama/Llama-3.1-8B-Instruct"`).
    public var model: String
    /// The LoRA adapter name, or nil for the base model.
    public var adapter: String?
    /// The request's `cache_salt` (per-tenant cache isolation), or nil.
    public var cacheSalt: String?

    /// The fixed XXH3 seed of the root hash: the ASCII bytes of `"PREFIXNS"` read as a big-endian integer.
    public static let rootSeed: UInt64 = 0x5052_4546_4958_4E53

    /// Describes a namespace. The default (empty model, no adapter, no salt) suits a single-model fleet.
    public init(model: String = "", adapter: String? = nil, cacheSalt: String? = nil) {
        self.model = model
        self.adapter = adapter
        self.cacheSalt = cacheSalt
    }

    /// The chain root: the seed of block 0's hash. See the type's documentation for the exact encoding.
    ///
    /// - Complexity: O(length of the three strings); one allocation. ``PrefixHasher`` computes it once, at
    ///   initialisation.
    public var root: UInt64 {
        var encoding: [UInt8] = []
        encoding.reserveCapacity(1 + 27 + model.utf8.count + (adapter?.utf8.count ?? 0) + (cacheSalt?.utf8.count ?? 0))
        encoding.append(HashSchema.version)
        Self.appendField(model, to: &encoding)
        Self.appendField(adapter, to: &encoding)
        Self.appendField(cacheSalt, to: &encoding)
        return XXH3Hash.hash(encoding, seed: Self.rootSeed)
    }

    private static func appendField(_ field: String?, to encoding: inout [UInt8]) {
        guard let field else {
            encoding.append(0x00)
            return
        }
        encoding.append(0x01)
        ByteFraming.appendLength(field.utf8.count, to: &encoding)
        encoding.append(contentsOf: field.utf8)
    }
}
