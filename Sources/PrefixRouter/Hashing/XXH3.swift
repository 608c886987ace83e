internal import CXXHash

/// Thin wrapper over libxxhash's XXH3-64. Internal: the C module never appears in the public API.
@usableFromInline
enum XXH3 {
    /// XXH3-64 of `bytes` with `seed` (seed 0 equals the unseeded XXH3_64bits). O(n), no allocation.
    @usableFromInline
    static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64) -> UInt64 {
        XXH3_64bits_withSeed(bytes.baseAddress, bytes.count, seed)
    }

    /// XXH3-64 of a little-endian 64-bit integer followed by another, with `seed`. Used for ring points and
    /// separator-safe composite keys. O(1), no allocation.
    @usableFromInline
    static func hash(_ a: UInt64, _ b: UInt64, seed: UInt64) -> UInt64 {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 2) { buffer in
            buffer[0] = a.littleEndian
            buffer[1] = b.littleEndian
            return hash(UnsafeRawBufferPointer(buffer), seed: seed)
        }
    }

    /// XXH3-64 of the UTF-8 bytes of `string`, with `seed`. No allocation for native strings.
    @usableFromInline
    static func hash(utf8 string: String, seed: UInt64) -> UInt64 {
        var string = string
        return string.withUTF8 { hash(UnsafeRawBufferPointer($0), seed: seed) }
    }
}

/// Public access to the exact XXH3-64 function the library uses, for interoperability and benchmarks.
@_spi(Internals) public enum XXH3Hash {
    /// XXH3-64 of `bytes` with `seed` (libxxhash `XXH3_64bits_withSeed`). O(n), no allocation.
    @inlinable
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        XXH3.hash(bytes, seed: seed)
    }

    /// XXH3-64 of a byte array with `seed`. O(n), no allocation.
    @inlinable
    public static func hash(_ bytes: [UInt8], seed: UInt64 = 0) -> UInt64 {
        bytes.withUnsafeBytes { XXH3.hash($0, seed: seed) }
    }
}
