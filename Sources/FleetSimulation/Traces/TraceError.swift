/// A trace that cannot be read: names the file, the line, the field, what was expected and what was found.
public struct TraceError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The file (as given on the command line).
    public var file: String
    /// The 1-based line number, or 0 when the problem concerns the whole file.
    public var line: Int
    /// The field (JSON key or CSV column), or nil for the line as a whole.
    public var field: String?
    /// What the reader expected.
    public var expected: String
    /// What it found.
    public var found: String

    /// Creates an error.
    public init(file: String, line: Int, field: String? = nil, expected: String, found: String) {
        self.file = file
        self.line = line
        self.field = field
        self.expected = expected
        self.found = found
    }

    /// `file:line: field: expected …, found …` (the compiler-style format editors can jump to).
    public var description: String {
        let place = line > 0 ? "\(file):\(line)" : file
        let what = field.map { "\($0): " } ?? ""
        return "\(place): \(what)expected \(expected), found \(found)"
    }
}
