import Foundation

/// One JSON object line of a trace, with typed field accessors whose errors name file, line and field.
struct JSONLine {
    let object: [String: Any]
    let file: String
    let line: Int

    /// Parses `text` as a JSON object.
    init(_ text: Substring, file: String, line: Int) throws(TraceError) {
        self.file = file
        self.line = line
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        } catch {
            throw TraceError(file: file, line: line, expected: "a JSON object", found: JSONLine.excerpt(text))
        }
        guard let object = parsed as? [String: Any] else {
            throw TraceError(file: file, line: line, expected: "a JSON object", found: JSONLine.excerpt(text))
        }
        self.object = object
    }

    /// Wraps an already-parsed object (a nested `body`).
    init(object: [String: Any], file: String, line: Int) {
        self.object = object
        self.file = file
        self.line = line
    }

    func error(_ field: String, expected: String, found value: Any?) -> TraceError {
        TraceError(file: file, line: line, field: field, expected: expected, found: JSONLine.describe(value))
    }

    func has(_ key: String) -> Bool { object[key] != nil && !(object[key] is NSNull) }

    /// A required integer within `range`.
    func integer(_ key: String, in range: ClosedRange<Int>) throws(TraceError) -> Int {
        guard let value = optionalInteger(key, in: range) else {
            throw error(key, expected: "an integer in \(range.lowerBound)...\(range.upperBound)", found: object[key])
        }
        return value
    }

    /// An optional integer within `range`: nil when absent or null; throws when present and invalid.
    func optionalInteger(_ key: String, in range: ClosedRange<Int>) -> Int? {
        guard let raw = object[key], !(raw is NSNull) else { return nil }
        guard let value = JSONLine.integerValue(raw), range.contains(value) else { return nil }
        return value
    }

    /// An optional integer: nil when absent or null; throws when present but not an integer in `range`.
    func integerIfPresent(_ key: String, in range: ClosedRange<Int>) throws(TraceError) -> Int? {
        guard has(key) else { return nil }
        return try integer(key, in: range)
    }

    /// An optional non-negative finite number (a timestamp in ms): nil when absent; throws when invalid.
    func numberIfPresent(_ key: String) throws(TraceError) -> Double? {
        guard has(key) else { return nil }
        guard let number = object[key] as? NSNumber, !JSONLine.isBool(number), number.doubleValue.isFinite,
            number.doubleValue >= 0
        else { throw error(key, expected: "a non-negative number", found: object[key]) }
        return number.doubleValue
    }

    /// An optional string: nil when absent or null; throws when present and not a string.
    func stringIfPresent(_ key: String) throws(TraceError) -> String? {
        guard has(key) else { return nil }
        if let string = object[key] as? String { return string }
        // Session ids are sometimes numbers.
        if let number = object[key] as? NSNumber, !JSONLine.isBool(number), let int = JSONLine.integerValue(number) {
            return String(int)
        }
        throw error(key, expected: "a string", found: object[key])
    }

    /// A required array of integers within `range`.
    func integers(_ key: String, in range: ClosedRange<Int>, allowEmpty: Bool) throws(TraceError) -> [Int] {
        guard let array = object[key] as? [Any] else {
            throw error(key, expected: "an array of integers", found: object[key])
        }
        if array.isEmpty, !allowEmpty { throw error(key, expected: "a non-empty array of integers", found: array) }
        var result: [Int] = []
        result.reserveCapacity(array.count)
        for (position, element) in array.enumerated() {
            guard let value = JSONLine.integerValue(element), range.contains(value) else {
                throw error(
                    "\(key)[\(position)]",
                    expected: "an integer in \(range.lowerBound)...\(range.upperBound)",
                    found: element
                )
            }
            result.append(value)
        }
        return result
    }

    /// JSONSerialization returns booleans as NSNumber too; their ObjC type code is `c`.
    static func isBool(_ number: NSNumber) -> Bool { number.objCType.pointee == CChar(UInt8(ascii: "c")) }

    static func integerValue(_ value: Any) -> Int? {
        guard let number = value as? NSNumber, !isBool(number) else { return nil }
        let double = number.doubleValue
        guard double.isFinite, double.rounded() == double, abs(double) < 9.0e15 else { return nil }
        return Int(double)
    }

    static func describe(_ value: Any?) -> String {
        guard let value else { return "nothing (field missing)" }
        if value is NSNull { return "null" }
        if let string = value as? String { return "the string \(excerpt(Substring(string)))" }
        if let array = value as? [Any] { return "an array of \(array.count) elements" }
        if value is [String: Any] { return "an object" }
        if let number = value as? NSNumber {
            return isBool(number) ? "the boolean \(number.boolValue)" : "the number \(number)"
        }
        return "\(value)"
    }

    static func excerpt(_ text: Substring) -> String {
        let trimmed = text.trimmingWhitespace
        if trimmed.isEmpty { return "an empty line" }
        let limit = 60
        return trimmed.count > limit ? "'\(trimmed.prefix(limit))…'" : "'\(trimmed)'"
    }
}
