/// The stable name of an inference replica (a pod name, `host:port`, a URL).
///
/// Ring placement is derived from the id's UTF-8 bytes, so every gateway that names its replicas the same
/// way places keys the same way, with no coordination.
public struct ReplicaID: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    /// The id's text.
    public var rawValue: String

    /// Wraps a replica name. Validation (non-empty, unique) happens when a replica joins a fleet.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Wraps a replica name. Validation (non-empty, unique) happens when a replica joins a fleet.
    public init(_ rawValue: String) { self.rawValue = rawValue }

    /// Creates an id from a string literal.
    public init(stringLiteral value: String) { self.rawValue = value }

    /// Orders values by their raw value.
    public static func < (lhs: ReplicaID, rhs: ReplicaID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// A short textual form, for logs and messages.
    public var description: String { rawValue }
}
