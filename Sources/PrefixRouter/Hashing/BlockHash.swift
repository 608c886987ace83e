/// The chained 64-bit hash of one prompt block and everything before it.
///
/// Block *i* covers tokens `[i·B, (i+1)·B)`; its hash is XXH3-64 of the block's bytes seeded with the hash
/// of block *i − 1* (the first block is seeded with the namespace root). Two prompts that agree on their
/// first *k* block hashes therefore agree on their first *k·B* tokens (up to 64-bit collisions), which is
/// exactly what an engine's prefix cache can reuse.
///
/// Hashes are identical across processes, runs and platforms: they never involve Swift's `Hasher`.
public struct BlockHash: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The 64-bit hash value.
    public var rawValue: UInt64

    /// Wraps a raw 64-bit hash value.
    @inlinable
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Wraps a raw 64-bit hash value.
    @inlinable
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }

    /// Orders values by their raw value.
    @inlinable
    public static func < (lhs: BlockHash, rhs: BlockHash) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The hash as 16 lowercase hexadecimal digits.
    public var description: String {
        let hex = String(rawValue, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
