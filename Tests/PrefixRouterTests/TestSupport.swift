@_spi(Internals) @testable import PrefixRouter

/// Replica ids `r0`, `r1`, … used across the tests.
func replicaIDs(_ count: Int, prefix: String = "r") -> [ReplicaID] {
    (0..<count).map { ReplicaID("\(prefix)\($0)") }
}

/// A request whose only block hash is `key`, so that prefix affinity keys on `key` exactly.
func keyedRequest(_ key: UInt64) -> RoutingRequest {
    RoutingRequest(blockHashes: [BlockHash(key)], blockSize: 16)
}

/// The bounded-load capacity as README and `LoadFactor` define it, `max(1, ⌈k · (m + 1) · w ÷ (1000 · W)⌉)`
/// with `k` the load factor in thousandths, computed independently of `LoadFactor` (plain integer arithmetic:
/// the test inputs are small enough not to overflow).
func expectedCapacity(loadFactorThousandths: Int, inFlight: Int, weight: Int, totalWeight: Int) -> Int {
    let numerator = loadFactorThousandths * (inFlight + 1) * weight
    let denominator = 1_000 * totalWeight
    return max(1, (numerator + denominator - 1) / denominator)
}
