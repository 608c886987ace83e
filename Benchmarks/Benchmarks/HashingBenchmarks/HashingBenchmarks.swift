import Benchmark
import BenchmarkFixtures
import BenchmarkSupport
@_spi(Internals) import PrefixRouter

// Prompt hashing: chained block hashes beside one-shot XXH3 over the same bytes, and text and chat hashing.
//
// Each sample hashes the prompt `scaledIterations` (1,000) times: wall clock is per prompt, throughput is
// prompts per second (bytes per second = throughput × 4 × tokens). Malloc counts are per 1,000 prompts, pinned by
// the stored thresholds (Thresholds/): 0 for hashing into a caller's buffer, one array per prompt for the
// array-returning calls (two for chat: the canonical serialization and the result).

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = BenchmarkDefaults.configuration()

    for tokenCount in [256, 2_048, 32_768] {
        let tokens = Prompts.tokens(count: tokenCount, seed: UInt64(tokenCount))
        Benchmark("one-shot-XXH3:\(tokenCount)-tokens") { benchmark in
            tokens.withUnsafeBytes { bytes in
                for _ in benchmark.scaledIterations {
                    blackHole(XXH3Hash.hash(bytes, seed: 0))
                }
            }
        }
        for blockSize in [16, 64] {
            guard let hasher = try? PrefixHasher(blockSize: blockSize) else { continue }
            Benchmark("chained-hashing:\(tokenCount)-tokens:\(blockSize)-token-blocks") { benchmark in
                let output = UnsafeMutableBufferPointer<BlockHash>.allocate(capacity: tokenCount / blockSize)
                defer { output.deallocate() }
                tokens.withUnsafeBufferPointer { tokens in
                    benchmark.startMeasurement()  // the output buffer is the caller's, allocated once
                    for _ in benchmark.scaledIterations {
                        blackHole(hasher.hashBlocks(tokens, into: output))
                    }
                    benchmark.stopMeasurement()
                }
            }
        }
    }

    guard let hasher = try? PrefixHasher(blockSize: 16) else { return }
    let tokens = Prompts.tokens(count: 2_048, seed: 2_048)
    Benchmark("chained-hashing-to-array:2048-tokens:16-token-blocks") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(hasher.blockHashes(of: tokens))
        }
    }

    let chat = Prompts.chat(byteCount: 8_192, seed: 8)
    let text = chat.map { $0.content?.plainText ?? "" }.joined(separator: "\n")
    Benchmark("text-hashing:8-KB") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(hasher.blockHashes(ofText: text))
        }
    }
    Benchmark("chat-hashing:8-KB:7-messages") { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(hasher.blockHashes(ofChat: chat))
        }
    }
}
