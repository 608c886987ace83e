@_spi(Internals) import PrefixRouter
import Testing

@Suite("Prefix index closure")
struct PrefixIndexClosureTests {
    /// Chained prompts sharing prefixes, inserted with heavy eviction: the binary-search match must equal the
    /// linear one, because tail-first touching keeps every replica's set prefix-closed.
    @Test("prefixClosedMatch equals longestMatch under eviction", arguments: 0..<6)
    func binarySearchMatchesLinearScan(seed: Int) throws {
        var random = RandomSource(seed: UInt64(seed) &+ 500)
        var index = try PrefixIndex(capacityPerReplica: 40)
        let replicas: [ReplicaID] = ["a", "b", "c"]
        // 12 conversation roots; each prompt extends a root by a random number of chained blocks.
        func prompt() -> [BlockHash] {
            let root = UInt64(random.next(below: 12))
            let length = 1 + random.next(below: 30)
            var hashes: [BlockHash] = []
            var h = root &* 0x9E37_79B9_7F4A_7C15
            for depth in 0..<length {
                // Chained: the block's identity depends on everything before it; branch at random depths.
                h = XXH3Hash.hash([UInt8(truncatingIfNeeded: depth), UInt8(random.next(below: 3))], seed: h)
                hashes.append(BlockHash(h))
            }
            return hashes
        }
        for step in 0..<2_000 {
            let hashes = prompt()
            let replica = replicas[random.next(below: 3)]
            if random.next(below: 2) == 0 { index.insert(hashes, for: replica) }
            for candidate in replicas {
                let linear = index.longestMatch(of: hashes, for: candidate)
                let binary = hashes.withUnsafeBufferPointer { index.prefixClosedMatch(of: $0, for: candidate) }
                #expect(linear == binary, "seed \(seed) step \(step)")
            }
        }
    }
}
