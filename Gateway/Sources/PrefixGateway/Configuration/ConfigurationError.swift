/// A configuration that cannot be used, naming where the problem is (the file, and the field's path such as
/// `replicas[1].url`) and what was expected.
public struct GatewayConfigurationError: Error, Sendable, CustomStringConvertible {
    /// Where the configuration came from: a file path, `"flags"`, or `"configuration"`.
    public var source: String
    /// The offending field's path (`admission.perReplicaCap`), or empty for the whole document.
    public var field: String
    /// What was wrong and what was expected.
    public var message: String

    /// Creates an error.
    public init(source: String = "configuration", field: String, _ message: String) {
        self.source = source
        self.field = field
        self.message = message
    }

    /// `source: field: message`.
    public var description: String {
        field.isEmpty ? "\(source): \(message)" : "\(source): \(field): \(message)"
    }
}
