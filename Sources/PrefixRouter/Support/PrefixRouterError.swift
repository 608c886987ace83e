/// An error thrown when a configuration, a replica set or an input is invalid.
///
/// Errors carry a ``Code`` (stable, switchable) and a human-readable message that names the offending
/// field and what was expected. New codes can be added without breaking clients, following the pattern
/// of swift-service-lifecycle's `ServiceGroupError`.
public struct PrefixRouterError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of problem.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: Hashable, Sendable {
            case emptyReplicaID, duplicateReplicaID, unknownReplica, invalidWeight, invalidLoadFactor
            case invalidBlockSize, invalidVirtualNodes, invalidParameter, invalidInput, incompatibleLibrary
        }
        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// A replica id is the empty string.
        public static let emptyReplicaID = Code(.emptyReplicaID)
        /// Two replicas share one id, or an added replica's id is already a member.
        public static let duplicateReplicaID = Code(.duplicateReplicaID)
        /// An operation named a replica that is not a member.
        public static let unknownReplica = Code(.unknownReplica)
        /// A replica weight is zero or above ``Replica/maximumWeight``, or a replica would own more than ``HashRing/maximumPointsPerReplica`` ring points.
        public static let invalidWeight = Code(.invalidWeight)
        /// The bounded-load factor `c` is not a finite number in 1.001...100.
        public static let invalidLoadFactor = Code(.invalidLoadFactor)
        /// A block size is zero, negative or too large.
        public static let invalidBlockSize = Code(.invalidBlockSize)
        /// The virtual-node count per unit of weight is out of range.
        public static let invalidVirtualNodes = Code(.invalidVirtualNodes)
        /// Some other configuration parameter is out of range.
        public static let invalidParameter = Code(.invalidParameter)
        /// An input (a request body, a message list) cannot be hashed.
        public static let invalidInput = Code(.invalidInput)
        /// The loaded libxxhash would hash differently from other gateways (older than 0.8.0, or a wrong known
        /// answer).
        public static let incompatibleLibrary = Code(.incompatibleLibrary)

        /// A short textual form, for logs and messages.
        public var description: String {
            switch value {
            case .emptyReplicaID: "emptyReplicaID"
            case .duplicateReplicaID: "duplicateReplicaID"
            case .unknownReplica: "unknownReplica"
            case .invalidWeight: "invalidWeight"
            case .invalidLoadFactor: "invalidLoadFactor"
            case .invalidBlockSize: "invalidBlockSize"
            case .invalidVirtualNodes: "invalidVirtualNodes"
            case .invalidParameter: "invalidParameter"
            case .invalidInput: "invalidInput"
            case .incompatibleLibrary: "incompatibleLibrary"
            }
        }
    }

    /// The kind of problem.
    public let code: Code
    /// What was wrong, naming the field and the expected value.
    public let message: String

    /// Creates an error with a code and a message naming the field and what was expected.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// A short textual form, for logs and messages.
    public var description: String { "\(code): \(message)" }
}
