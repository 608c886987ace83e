/// Byte-framing helpers for the fixed encoding of ``HashNamespace``.
enum ByteFraming {
    /// Appends `length` as 8 little-endian bytes.
    static func appendLength(_ length: Int, to bytes: inout [UInt8]) {
        let value = UInt64(length)
        for shift in stride(from: 0, to: 64, by: 8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }
}
