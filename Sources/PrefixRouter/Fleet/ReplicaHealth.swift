/// Whether a replica answers: set by health checks (``FleetControl/markDown(_:)``,
/// ``FleetControl/markUp(_:)``).
///
/// Health is kept apart from the ``AdministrativeState``: a health loop that marks a replica up never
/// un-drains it. A replica is *eligible* for new requests when it is ``up`` and ``AdministrativeState/active``.
public enum ReplicaHealth: Hashable, Sendable, CustomStringConvertible {
    /// Healthy.
    case up
    /// Unhealthy: takes no new requests; its ring points stay, so its keys return to it when it recovers.
    case down

    /// A short textual form, for logs and messages.
    public var description: String {
        switch self {
        case .up: "up"
        case .down: "down"
        }
    }
}

/// Whether an operator wants a replica to take new requests: set by ``FleetControl/drain(_:)`` and
/// ``FleetControl/undrain(_:)``, never by health checks.
public enum AdministrativeState: Hashable, Sendable, CustomStringConvertible {
    /// Takes new requests when healthy.
    case active
    /// Takes no new requests while its leases finish (a rollout, a scale-down); usually removed afterwards.
    case draining

    /// A short textual form, for logs and messages.
    public var description: String {
        switch self {
        case .active: "active"
        case .draining: "draining"
        }
    }
}
