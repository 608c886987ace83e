/// A member of the fleet as configured: its id and its relative capacity.
public struct Replica: Hashable, Sendable {
    /// The largest accepted weight. The ring also bounds `weight × virtualNodesPerWeight` per replica
    /// (``HashRing/maximumPointsPerReplica``).
    public static let maximumWeight = 1_000

    /// The replica's stable name.
    public var id: ReplicaID
    /// Relative capacity, `1...maximumWeight`. A replica of weight 2 gets twice the ring points and twice the
    /// bounded-load capacity of a replica of weight 1.
    public var weight: Int

    /// Describes a replica. Validated when it joins a fleet (see ``validate()``).
    public init(id: ReplicaID, weight: Int = 1) {
        self.id = id
        self.weight = weight
    }

    /// Throws ``PrefixRouterError`` naming the field when the id is empty or the weight is out of range.
    public func validate() throws(PrefixRouterError) {
        if id.rawValue.isEmpty {
            throw PrefixRouterError(.emptyReplicaID, "replica id: expected a non-empty string")
        }
        try Replica.validate(weight: weight, of: id)
    }

    static func validate(weight: Int, of id: ReplicaID) throws(PrefixRouterError) {
        guard weight >= 1, weight <= maximumWeight else {
            throw PrefixRouterError(
                .invalidWeight,
                "replica \(id): weight: expected 1...\(maximumWeight), found \(weight)"
            )
        }
    }
}
