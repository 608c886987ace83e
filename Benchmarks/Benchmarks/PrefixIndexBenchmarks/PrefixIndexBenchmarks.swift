import Benchmark
import BenchmarkFixtures
import BenchmarkSupport
@_spi(Internals) import PrefixRouter

// The approximate prefix index (PrefixIndex) with 2,048-token prompts in 16-token blocks (128 hashes each),
// in steady state: every replica's LRU is full (default capacity, 31,250 blocks), so inserts evict. The stored
// thresholds (Thresholds/) hold 0 mallocs per 1,000 operations, with no tolerance.

/// Distinct prompts cycled through (1,024 × 128 = 131,072 hashes, four times one replica's capacity).
let promptCount = 1_024

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = BenchmarkDefaults.configuration()

    let prompts = Prompts.prehashedRequests(count: promptCount, seed: 0x1D3).map(\.blockHashes)
    let mask = promptCount - 1
    let replicas = Fleets.replicas(64).map(\.id)
    guard var index = try? PrefixIndex() else { return }
    // Fill every replica past its capacity.
    for (position, replica) in replicas.enumerated() {
        for prompt in 0..<(2 * PrefixIndex.defaultCapacityPerReplica / 128) {
            index.insert(prompts[(prompt &+ position) & mask], for: replica)
        }
    }
    let filled = index
    let hot = replicas[0]
    // The prompt inserted last for replica 0 is fully held; the next one is not held at all.
    let heldPrompt = prompts[(2 * PrefixIndex.defaultCapacityPerReplica / 128 - 1) & mask]

    // One replica's index, mutated in place across samples (a copy of the 64-replica index is 80 MB).
    guard var single = try? PrefixIndex() else { return }
    for prompt in 0..<(2 * PrefixIndex.defaultCapacityPerReplica / 128) {
        single.insert(prompts[prompt & mask], for: hot)
    }
    let box = IndexBox(single)
    Benchmark("PrefixIndex-insert:2048-tokens:full-LRU") { benchmark in
        for iteration in benchmark.scaledIterations {
            box.index.insert(prompts[iteration & mask], for: hot)
        }
    }

    Benchmark("PrefixIndex-longest-match:2048-tokens:held") { benchmark in
        heldPrompt.withUnsafeBufferPointer { hashes in
            for _ in benchmark.scaledIterations {
                blackHole(filled.longestMatch(of: hashes, for: hot))
            }
        }
    }

    Benchmark("PrefixIndex-fleet-query:2048-tokens:64-replicas") { benchmark in
        heldPrompt.withUnsafeBufferPointer { hashes in
            for _ in benchmark.scaledIterations {
                var best = 0
                blackHole(filled.matches(of: hashes) { _, matched in best = max(best, matched) })
                blackHole(best)
            }
        }
    }
}

/// Holds an index that a benchmark mutates across samples. Benchmarks run one at a time on one thread.
final class IndexBox: @unchecked Sendable {
    var index: PrefixIndex
    init(_ index: PrefixIndex) { self.index = index }
}
