/// Why a strategy chose a replica: a low-cardinality label for logs and metrics.
///
/// A struct rather than an enum so that custom strategies can add their own reasons.
public struct RoutingReason: Hashable, Sendable, CustomStringConvertible {
    /// The label (snake_case).
    public let name: String

    /// Creates a reason with a snake_case label. Keep the set of labels small: they become metric values.
    public init(_ name: String) { self.name = name }

    /// A short textual form, for logs and messages.
    public var description: String { name }

    /// The key's owner on the ring had room (prefix or session affinity held).
    public static let affinity = RoutingReason("affinity")
    /// The key's owner was at capacity; the bounded-load walk moved the request clockwise.
    public static let spill = RoutingReason("spill")
    /// The request had no usable key; a fallback strategy placed it.
    public static let fallback = RoutingReason("fallback")
    /// Least outstanding requests.
    public static let leastOutstanding = RoutingReason("least_outstanding")
    /// Power of two choices.
    public static let powerOfTwo = RoutingReason("power_of_two")
    /// Round robin.
    public static let roundRobin = RoutingReason("round_robin")
    /// Uniformly random.
    public static let random = RoutingReason("random")
    /// An explicit session found its pinned replica in the session table.
    public static let session = RoutingReason("session")
    /// A new explicit session was pinned to the least loaded replica.
    public static let newSession = RoutingReason("new_session")
}
