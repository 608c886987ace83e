@_spi(Internals) import PrefixRouter
import Testing

private func hashes(_ values: [UInt64]) -> [BlockHash] { values.map(BlockHash.init(rawValue:)) }

@Suite struct PrefixIndexTests {
    @Test func rejectsCapacityOutOfRange() {
        for bad in [0, -1, PrefixIndex.maximumCapacityPerReplica + 1] {
            #expect(throws: PrefixRouterError.self) { try PrefixIndex(capacityPerReplica: bad) }
        }
        #expect(throws: Never.self) { try PrefixIndex(capacityPerReplica: 1) }
    }

    @Test func insertMakesTheFirstBlockMostRecent() throws {
        var index = try PrefixIndex(capacityPerReplica: 10)
        index.insert(hashes([1, 2, 3]), for: "a")
        #expect(index.hashesFromMostRecent(for: "a") == hashes([1, 2, 3]))
        index.insert(hashes([7, 8]), for: "a")
        #expect(index.hashesFromMostRecent(for: "a") == hashes([7, 8, 1, 2, 3]))
        // Touching an existing hash moves it to the front without duplicating it.
        index.insert(hashes([2]), for: "a")
        #expect(index.hashesFromMostRecent(for: "a") == hashes([2, 7, 8, 1, 3]))
        #expect(index.count(for: "a") == 5)
    }

    @Test func evictsLeastRecentlyUsedFirst() throws {
        var index = try PrefixIndex(capacityPerReplica: 3)
        for value: UInt64 in [1, 2, 3] { index.insert(hashes([value]), for: "a") }
        index.insert(hashes([1]), for: "a")  // 1 becomes most recent; 2 is now the oldest
        index.insert(hashes([4]), for: "a")
        #expect(index.hashesFromMostRecent(for: "a") == hashes([4, 1, 3]))
        index.insert(hashes([5]), for: "a")
        #expect(index.hashesFromMostRecent(for: "a") == hashes([5, 4, 1]))
        #expect(index.count(for: "a") == 3)
    }

    @Test func tailsAreEvictedBeforeHeadsSoMatchesStayLeading() throws {
        var index = try PrefixIndex(capacityPerReplica: 4)
        index.insert(hashes([10, 11, 12]), for: "a")
        index.insert(hashes([20, 21]), for: "a")  // evicts 12 (the tail), not 10
        #expect(index.longestMatch(of: hashes([10, 11, 12]), for: "a") == 2)
        #expect(index.longestMatch(of: hashes([20, 21]), for: "a") == 2)
    }

    @Test func insertingMoreThanTheCapacityKeepsTheLeadingBlocks() throws {
        var index = try PrefixIndex(capacityPerReplica: 3)
        index.insert(hashes([1, 2, 3, 4, 5]), for: "a")
        #expect(index.hashesFromMostRecent(for: "a") == hashes([1, 2, 3]))
        #expect(index.longestMatch(of: hashes([1, 2, 3, 4, 5]), for: "a") == 3)
    }

    @Test func longestMatchCountsLeadingBlocksOnly() throws {
        var index = try PrefixIndex(capacityPerReplica: 100)
        index.insert(hashes([1, 2, 3]), for: "a")
        index.insert(hashes([5]), for: "a")
        #expect(index.longestMatch(of: hashes([1, 2, 3, 4]), for: "a") == 3)
        #expect(index.longestMatch(of: hashes([1, 2]), for: "a") == 2)
        #expect(index.longestMatch(of: hashes([1, 9, 3]), for: "a") == 1)  // a gap ends the match
        #expect(index.longestMatch(of: hashes([9, 1, 2]), for: "a") == 0)
        // Membership is per hash (chained hashes encode the position), so a held hash counts wherever it sits.
        #expect(index.longestMatch(of: hashes([1, 2, 5]), for: "a") == 3)
        #expect(index.longestMatch(of: [], for: "a") == 0)
        #expect(index.longestMatch(of: hashes([1]), for: "unknown") == 0)
    }

    @Test func matchingDoesNotChangeRecency() throws {
        var index = try PrefixIndex(capacityPerReplica: 2)
        index.insert(hashes([1]), for: "a")
        index.insert(hashes([2]), for: "a")
        _ = index.longestMatch(of: hashes([1]), for: "a")
        index.matches(of: hashes([1])) { _, _ in }
        index.insert(hashes([3]), for: "a")
        #expect(index.hashesFromMostRecent(for: "a") == hashes([3, 2]))
    }

    @Test func fleetQueryStopsAtTheFirstBlockNoReplicaHolds() throws {
        var index = try PrefixIndex(capacityPerReplica: 100)
        // "a" holds blocks 0 and 2 but not 1 (block 2 arrived as the head of another prompt); "b" holds 0, 1.
        index.insert(hashes([100]), for: "a")
        index.insert(hashes([102]), for: "a")
        index.insert(hashes([100, 101]), for: "b")
        index.insert(hashes([999]), for: "c")
        var found: [ReplicaID: Int] = [:]
        let stop = index.matches(of: hashes([100, 101, 102, 103, 102])) { found[$0] = $1 }
        // Block 3 (103) is held by nobody: the walk stops there, before the second 102.
        #expect(stop == 3)
        #expect(found == ["a": 2, "b": 2, "c": 0])
        // The per-replica query requires a leading run.
        #expect(index.longestMatch(of: hashes([100, 101, 102, 103]), for: "a") == 1)

        var none: [ReplicaID: Int] = [:]
        #expect(index.matches(of: hashes([5, 100])) { none[$0] = $1 } == 0)
        #expect(none == ["a": 0, "b": 0, "c": 0])
    }

    @Test func fleetQueryOnAnEmptyIndexCallsNothing() throws {
        let index = try PrefixIndex()
        var calls = 0
        #expect(index.matches(of: hashes([1, 2])) { _, _ in calls += 1 } == 0)
        #expect(calls == 0)
    }

    @Test func removingAReplicaForgetsOnlyIt() throws {
        var index = try PrefixIndex(capacityPerReplica: 100)
        let prompt = hashes([1, 2, 3])
        for id: ReplicaID in ["a", "b", "c"] { index.insert(prompt, for: id) }
        index.insert(hashes([4]), for: "c")
        let before = index.approximateMemoryBytes
        let removed = index.removeReplica("a")
        let removedAgain = index.removeReplica("a")
        #expect(removed)
        #expect(!removedAgain)
        #expect(index.replicaCount == 2)
        #expect(index.approximateMemoryBytes < before)
        #expect(index.longestMatch(of: prompt, for: "a") == 0)
        #expect(index.longestMatch(of: prompt, for: "b") == 3)
        #expect(index.longestMatch(of: prompt, for: "c") == 3)
        #expect(index.hashesFromMostRecent(for: "c") == hashes([4, 1, 2, 3]))
        index.removeReplicas { $0 == "c" }
        #expect(Set(index.replicas) == ["b"])
        #expect(index.longestMatch(of: prompt, for: "b") == 3)
        // A replica that comes back starts cold.
        index.insert(hashes([9]), for: "a")
        #expect(index.longestMatch(of: prompt, for: "a") == 0)
    }

    @Test func memoryFigureFollowsTheDocumentedFormula() throws {
        // Hand-computed from the documented layout: 16 bytes per node, 12 per slot, slots = the smallest power
        // of two ≥ 4/3 of the nodes. 100 nodes → 256 slots (128 × 3 < 400 ≤ 256 × 3).
        #expect(PrefixIndex.memoryBound(capacityPerReplica: 100, replicas: 1) == 16 * 100 + 12 * 256)
        // The default stated in the documentation: 31,250 blocks → 65,536 slots.
        #expect(PrefixIndex.memoryBound(capacityPerReplica: 31_250, replicas: 1) == 1_286_432)
        #expect(PrefixIndex.memoryBound(capacityPerReplica: 31_250, replicas: 8) == 8 * 1_286_432)

        var index = try PrefixIndex(capacityPerReplica: 100)
        #expect(index.approximateMemoryBytes == 0)
        for value in UInt64(0)..<1_000 {
            index.insert(hashes([value]), for: "a")
            index.insert(hashes([value, value + 5_000]), for: "b")
            #expect(index.approximateMemoryBytes <= PrefixIndex.memoryBound(capacityPerReplica: 100, replicas: 2))
        }
        #expect(index.approximateMemoryBytes == PrefixIndex.memoryBound(capacityPerReplica: 100, replicas: 2))
        #expect(index.count(for: "a") == 100)
        #expect(index.count(for: "b") == 100)
    }

    @Test func aLightlyUsedReplicaCostsLessThanTheBound() throws {
        var index = try PrefixIndex()
        index.insert(hashes([1, 2, 3]), for: "a")
        #expect(index.approximateMemoryBytes > 0)
        #expect(index.approximateMemoryBytes * 100 < PrefixIndex.memoryBound(capacityPerReplica: 31_250, replicas: 1))
    }

    @Test(arguments: [UInt64(1), 2, 3, 4, 5, 6, 7, 8])
    func agreesWithAReferenceModel(seed: UInt64) throws {
        var random = RandomSource(seed: seed)
        let capacity = 1 + random.next(below: 40)
        let universe = UInt64(2 + random.next(below: 120))
        var index = try PrefixIndex(capacityPerReplica: capacity)
        var model = ReferenceIndex(capacity: capacity)
        let ids: [ReplicaID] = ["r0", "r1", "r2", "r3"]
        func randomPrompt() -> [BlockHash] {
            // Small universe and structured values (sequential, or sharing low bits) to stress probing.
            let length = random.next(below: 12)
            return (0..<length).map { _ in
                let value = UInt64(random.next(below: Int(universe)))
                return BlockHash(rawValue: random.next(below: 2) == 0 ? value : value << 40)
            }
        }
        for step in 0..<3_000 {
            let id = ids[random.next(below: ids.count)]
            let context = Comment(rawValue: "seed \(seed), step \(step), capacity \(capacity), replica \(id)")
            switch random.next(below: 20) {
            case 0:
                let removed = index.removeReplica(id)
                #expect(removed == model.remove(id), context)
            case 1...11:
                let prompt = randomPrompt()
                index.insert(prompt, for: id)
                model.insert(prompt, for: id)
            default:
                let prompt = randomPrompt()
                #expect(index.longestMatch(of: prompt, for: id) == model.longestMatch(prompt, for: id), context)
                var found: [ReplicaID: Int] = [:]
                let stop = index.matches(of: prompt) { found[$0] = $1 }
                let expected = model.matches(prompt)
                #expect(stop == expected.stop, context)
                #expect(found == expected.counts, context)
            }
            #expect(index.count(for: id) <= capacity, context)
            #expect(index.hashesFromMostRecent(for: id) == model.recency[id, default: []], context)
        }
        #expect(
            index.approximateMemoryBytes <= PrefixIndex.memoryBound(capacityPerReplica: capacity, replicas: ids.count),
            "seed \(seed)"
        )
    }
}

/// The obviously correct model: per replica, an array of hashes from most to least recent.
private struct ReferenceIndex {
    let capacity: Int
    var recency: [ReplicaID: [BlockHash]] = [:]

    mutating func insert(_ prompt: [BlockHash], for id: ReplicaID) {
        guard !prompt.isEmpty else { return }
        var list = recency[id, default: []]
        for hash in prompt.prefix(capacity).reversed() {
            list.removeAll { $0 == hash }
            list.insert(hash, at: 0)
            if list.count > capacity { list.removeLast() }
        }
        recency[id] = list
    }

    mutating func remove(_ id: ReplicaID) -> Bool { recency.removeValue(forKey: id) != nil }

    func longestMatch(_ prompt: [BlockHash], for id: ReplicaID) -> Int {
        let held = Set(recency[id, default: []])
        return prompt.prefix { held.contains($0) }.count
    }

    func matches(_ prompt: [BlockHash]) -> (stop: Int, counts: [ReplicaID: Int]) {
        let held = recency.mapValues(Set.init)
        let stop = prompt.prefix { hash in held.values.contains { $0.contains(hash) } }.count
        return (stop, held.mapValues { set in prompt.prefix(stop).filter(set.contains).count })
    }
}
