/// Any JSON value: the representation of request fields that are hashed as JSON (tool definitions, tool
/// calls, non-text content parts), whatever their shape.
///
/// `Codable` as plain JSON, so a gateway decodes `tools`, `tool_calls` or a content part of any shape without
/// knowing its schema, and never rejects a valid request over a field it does not model.
///
/// ### Canonical form
/// ``canonicalJSON`` is the JSON Canonicalization Scheme of RFC 8785 (JCS): no whitespace, object members
/// sorted by the UTF-16 code units of their names, strings escaped minimally, numbers written as ECMAScript
/// writes an IEEE 754 double. Two values that are equal as JSON data therefore serialize to the same bytes,
/// whatever key order, spacing or number spelling (`1`, `1.0`, `1e0`) the client sent, and JCS libraries in
/// other languages produce the same bytes.
///
/// Numbers are IEEE 754 doubles, as in JCS and JavaScript: integers beyond 2^53 keep 53 bits of precision.
public enum JSONValue: Hashable, Sendable, Codable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number, as a double.
    case number(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([JSONValue])
    /// An object. Member order is not kept: it is not part of JSON data, and the canonical form sorts it.
    case object([String: JSONValue])

    /// Decodes any JSON value.
    ///
    /// - Throws: `DecodingError.dataCorrupted` when the value is not JSON (for example a number outside the
    ///   range of a double).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else if let value = try? container.decode([String: JSONValue].self) {
            self = .object(value)
        } else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription:
                    "expected a JSON value (null, a boolean, a finite number, a string, an array or an object)"
            )
        }
    }

    /// Encodes the value as plain JSON.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The value in the RFC 8785 canonical form (see the type's documentation).
    ///
    /// - Complexity: O(n log n) for n bytes of JSON (member names are sorted per object).
    public var canonicalJSON: String {
        var bytes: [UInt8] = []
        appendCanonicalJSON(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the UTF-8 bytes of ``canonicalJSON`` to `bytes`.
    func appendCanonicalJSON(to bytes: inout [UInt8]) {
        switch self {
        case .null: bytes.append(contentsOf: "null".utf8)
        case .bool(let value): bytes.append(contentsOf: (value ? "true" : "false").utf8)
        case .number(let value): Self.appendNumber(value, to: &bytes)
        case .string(let value): Self.appendString(value, to: &bytes)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                element.appendCanonicalJSON(to: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            // RFC 8785 §3.2.3: sorted by the names' UTF-16 code units (not by Swift's String ordering).
            let names = members.keys.sorted { $0.utf16.lexicographicallyPrecedes($1.utf16) }
            for (index, name) in names.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                Self.appendString(name, to: &bytes)
                bytes.append(UInt8(ascii: ":"))
                members[name, default: .null].appendCanonicalJSON(to: &bytes)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    /// A JSON string literal as RFC 8785 §3.2.2.2 writes it (ECMAScript `JSON.stringify`): `"` and `\`
    /// escaped, the five short escapes for control characters that have one, `\u00xx` (lowercase) for the
    /// other characters below U+0020, every other character as its UTF-8 bytes.
    static func appendString(_ string: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
            case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
            case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: "\\u00".utf8)
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0x0F)])
            default: bytes.append(byte)  // UTF-8 continuation and lead bytes are never below 0x80: no split
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// A number as RFC 8785 §3.2.2.3 writes it: ECMAScript's `Number.prototype.toString` of the double, that is
    /// the shortest digits that round-trip, in plain notation for exponents from -6 to 20 and in exponent
    /// notation (`1e+21`, `1e-7`) outside. Both zeros write `0`. Non-finite values (which JSON cannot carry)
    /// write `null`, as `JSON.stringify` does.
    static func appendNumber(_ value: Double, to bytes: inout [UInt8]) {
        guard value.isFinite else {
            bytes.append(contentsOf: "null".utf8)
            return
        }
        guard value != 0 else {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        // Swift's description prints the shortest digits that round-trip ("1.0", "0.001", "1e-07",
        // "1.2345e+20"); read them back as digits d₁…d_k and an exponent n with value = 0.d₁…d_k × 10ⁿ.
        let text = value.magnitude.description.utf8
        var digits: [UInt8] = []
        var pointPosition = 0
        var exponent = 0
        var seenPoint = false
        var index = text.startIndex
        while index != text.endIndex {
            let byte = text[index]
            if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") {
                exponent = Int(Substring(text[text.index(after: index)...])) ?? 0
                break
            }
            if byte == UInt8(ascii: ".") {
                seenPoint = true
            } else {
                digits.append(byte)
                if !seenPoint { pointPosition += 1 }
            }
            index = text.index(after: index)
        }
        while digits.first == UInt8(ascii: "0") {
            digits.removeFirst()
            pointPosition -= 1
        }
        while digits.last == UInt8(ascii: "0") { digits.removeLast() }
        let k = digits.count
        let n = pointPosition + exponent
        let zero = UInt8(ascii: "0")
        if k <= n && n <= 21 {
            bytes.append(contentsOf: digits)
            bytes.append(contentsOf: repeatElement(zero, count: n - k))
        } else if 0 < n && n <= 21 {
            bytes.append(contentsOf: digits[..<n])
            bytes.append(UInt8(ascii: "."))
            bytes.append(contentsOf: digits[n...])
        } else if -6 < n && n <= 0 {
            bytes.append(contentsOf: [zero, UInt8(ascii: ".")])
            bytes.append(contentsOf: repeatElement(zero, count: -n))
            bytes.append(contentsOf: digits)
        } else {
            bytes.append(digits[0])
            if k > 1 {
                bytes.append(UInt8(ascii: "."))
                bytes.append(contentsOf: digits[1...])
            }
            bytes.append(UInt8(ascii: "e"))
            bytes.append(n - 1 < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
            bytes.append(contentsOf: String((n - 1).magnitude).utf8)
        }
    }
}
