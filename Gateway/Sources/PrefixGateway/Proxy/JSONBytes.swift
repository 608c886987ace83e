/// Byte-level helpers over JSON text, for the few places where the gateway looks into a body without
/// decoding it: the `stream_options` edit of a request, and the final usage chunk of a stream.
///
/// They assume valid JSON (the request was decoded first; a response that is not valid JSON is passed on
/// untouched, since every helper answers nil when the text is not what it expects).
enum JSONBytes {
    static let quote = UInt8(ascii: "\"")
    static let backslash = UInt8(ascii: "\\")

    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    /// The first index at or after `index` that is not whitespace (or `bytes.count`).
    static func skipWhitespace(_ bytes: UnsafeRawBufferPointer, _ index: Int) -> Int {
        var index = index
        while index < bytes.count, isWhitespace(bytes[index]) { index += 1 }
        return index
    }

    /// The index just past the string that starts at `index` (a quote), or nil if it is not terminated.
    static func endOfString(_ bytes: UnsafeRawBufferPointer, _ index: Int) -> Int? {
        var position = index + 1
        while position < bytes.count {
            switch bytes[position] {
            case backslash: position += 2
            case quote: return position + 1
            default: position += 1
            }
        }
        return nil
    }

    /// The index just past the value that starts at `index`, or nil if it is not complete.
    static func endOfValue(_ bytes: UnsafeRawBufferPointer, _ index: Int) -> Int? {
        guard index < bytes.count else { return nil }
        switch bytes[index] {
        case quote:
            return endOfString(bytes, index)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var position = index
            while position < bytes.count {
                switch bytes[position] {
                case quote:
                    guard let end = endOfString(bytes, position) else { return nil }
                    position = end
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return position + 1 }
                default:
                    break
                }
                position += 1
            }
            return nil
        default:  // number, true, false, null
            var position = index
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: ",") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]")
                    || isWhitespace(byte)
                {
                    break
                }
                position += 1
            }
            return position > index ? position : nil
        }
    }

    /// One member of an object: the raw bytes of its key (between the quotes) and its value's range.
    struct Member {
        var key: Range<Int>
        var value: Range<Int>
    }

    /// The members of the object that starts at `index` (a `{`), and the index just past it; nil when the
    /// text is not a complete object.
    static func members(
        ofObjectAt index: Int,
        in bytes: UnsafeRawBufferPointer
    ) -> (members: [Member], end: Int)? {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return nil }
        var members: [Member] = []
        var position = skipWhitespace(bytes, index + 1)
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") { return (members, position + 1) }
        while position < bytes.count {
            guard bytes[position] == quote, let keyEnd = endOfString(bytes, position) else { return nil }
            let key = (position + 1)..<(keyEnd - 1)
            position = skipWhitespace(bytes, keyEnd)
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { return nil }
            let valueStart = skipWhitespace(bytes, position + 1)
            guard let valueEnd = endOfValue(bytes, valueStart) else { return nil }
            members.append(Member(key: key, value: valueStart..<valueEnd))
            position = skipWhitespace(bytes, valueEnd)
            guard position < bytes.count else { return nil }
            if bytes[position] == UInt8(ascii: "}") { return (members, position + 1) }
            guard bytes[position] == UInt8(ascii: ",") else { return nil }
            position = skipWhitespace(bytes, position + 1)
        }
        return nil
    }

    /// Whether `bytes[range]` are the UTF-8 bytes of `text`.
    static func equals(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ text: StaticString) -> Bool {
        guard range.count == text.utf8CodeUnitCount else { return false }
        let expected = UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
        var offset = 0
        for position in range {
            if bytes[position] != expected[offset] { return false }
            offset += 1
        }
        return true
    }

    /// The index of the first occurrence of `needle` in `bytes[from..<bytes.count]`.
    static func firstIndex(of needle: StaticString, in bytes: UnsafeRawBufferPointer, from: Int = 0) -> Int? {
        let count = needle.utf8CodeUnitCount
        guard count > 0, bytes.count - from >= count else { return nil }
        let first = needle.utf8Start.pointee
        var position = from
        let last = bytes.count - count
        while position <= last {
            if bytes[position] == first, equals(bytes, position..<(position + count), needle) { return position }
            position += 1
        }
        return nil
    }

    /// The index of the last occurrence of `needle` in `bytes`.
    static func lastIndex(of needle: StaticString, in bytes: UnsafeRawBufferPointer) -> Int? {
        let count = needle.utf8CodeUnitCount
        guard count > 0, bytes.count >= count else { return nil }
        let first = needle.utf8Start.pointee
        var position = bytes.count - count
        while position >= 0 {
            if bytes[position] == first, equals(bytes, position..<(position + count), needle) { return position }
            position -= 1
        }
        return nil
    }

    /// The range of the value of the key whose quoted name ends just before `index` (`"usage"` then
    /// whitespace, `:`, whitespace, the value), or nil.
    static func valueAfterKey(endingAt index: Int, in bytes: UnsafeRawBufferPointer) -> Range<Int>? {
        var position = skipWhitespace(bytes, index)
        guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { return nil }
        position = skipWhitespace(bytes, position + 1)
        guard let end = endOfValue(bytes, position) else { return nil }
        return position..<end
    }
}
