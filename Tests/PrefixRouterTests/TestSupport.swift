@testable import PrefixRouter

/// Replica ids `r0`, `r1`, … used across the tests.
func replicaIDs(_ count: Int, prefix: String = "r") -> [ReplicaID] {
    (0..<count).map { ReplicaID("\(prefix)\($0)") }
}

/// A request whose only block hash is `key`, so that prefix affinity keys on `key` exactly.
func keyedRequest(_ key: UInt64) -> RoutingRequest {
    RoutingRequest(blockHashes: [BlockHash(key)], blockSize: 16)
}

/// The bounded-load capacity as the paper defines it, computed independently of `Fleet`.
func expectedCapacity(loadFactor: Double, inFlight: Int, weight: Int, totalWeight: Int) -> Int {
    max(1, Int((loadFactor * Double(inFlight + 1) * Double(weight) / Double(totalWeight)).rounded(.up)))
}
