import Foundation
import NIOHTTP1
import Testing

@testable import MockEngine

@Suite("Prefix cache")
struct PrefixCacheTests {
    @Test("FNV-1a 64 matches its published test vectors (stable across processes)")
    func fnvVectors() {
        #expect(FNV1a64.hash([UInt8]()) == 0xcbf2_9ce4_8422_2325)
        #expect(FNV1a64.hash("a".utf8) == 0xaf63_dc4c_8601_ec8c)
        #expect(FNV1a64.hash("foobar".utf8) == 0x8594_4171_f739_67e8)
    }

    @Test("Blocks are full blocks before the last byte, chained, and depend on the model")
    func blocks() {
        let sixtyFour = [UInt8](repeating: 65, count: 64)
        #expect(PromptBlocks(bytes: sixtyFour, model: "m", blockBytes: 64).hashes.isEmpty)
        let longer = sixtyFour + sixtyFour + [66]
        let blocks = PromptBlocks(bytes: longer, model: "m", blockBytes: 64)
        #expect(blocks.hashes.count == 2)
        #expect(blocks.tokens == 33)
        // Equal blocks at different positions hash differently: the hash names the whole prefix.
        #expect(blocks.hashes[0] != blocks.hashes[1])
        #expect(PromptBlocks(bytes: longer, model: "m", blockBytes: 64).hashes == blocks.hashes)
        #expect(PromptBlocks(bytes: longer, model: "other", blockBytes: 64).hashes != blocks.hashes)
        let divergent = sixtyFour + [UInt8](repeating: 67, count: 65)
        let other = PromptBlocks(bytes: divergent, model: "m", blockBytes: 64).hashes
        #expect(other.first == blocks.hashes.first)
        #expect(other.last != blocks.hashes.last)
    }

    @Test("The cache matches leading blocks only and evicts the least recently used")
    func lru() {
        var cache = PrefixCache(capacity: 3)
        cache.insert([1, 2])
        cache.insert([10])
        #expect(cache.matchPrefix([1, 2, 3]) == 2)
        #expect(cache.matchPrefix([2]) == 1)
        #expect(cache.matchPrefix([5, 1]) == 0)  // not a leading match
        // Recency now: 2, 1, 10 (MRU first) → inserting two blocks evicts 10, then 1.
        cache.insert([20, 21])
        #expect(cache.count == 3)
        #expect(cache.matchPrefix([10]) == 0)
        #expect(cache.matchPrefix([20, 21]) == 2)
        #expect(cache.matchPrefix([2]) == 1)
        #expect(cache.matchPrefix([1]) == 0)
        var none = PrefixCache(capacity: 0)
        none.insert([1])
        #expect(none.matchPrefix([1]) == 0)
    }

    @Test("cached_tokens is 0 for a fresh prompt and grows with a repeated prefix")
    func cachedTokensOverHTTP() async throws {
        // 64-byte blocks = 16 tokens. Chat text is "user: " + content + "\n".
        try await withEngine { engine, client in
            let content = String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 7)  // 315 bytes
            func cached(_ content: String) async throws -> Int {
                let (_, body, _) = try await client.send(
                    .POST,
                    "/v1/chat/completions",
                    json: chatJSON(content, maxTokens: 1)
                )
                let usage = try #require(try jsonObject(body)["usage"] as? [String: Any])
                let details = try #require(usage["prompt_tokens_details"] as? [String: Any])
                return try #require(details["cached_tokens"] as? Int)
            }
            #expect(try await cached(content) == 0)
            // 322 bytes: (322 - 1) / 64 = 5 cacheable blocks.
            #expect(try await cached(content) == 80)
            // Shares the first 6 + 150 bytes: 2 full blocks.
            let divergent = String(content.prefix(150)) + String(repeating: "z", count: 165)
            #expect(try await cached(divergent) == 32)
            #expect(try await cached("Something else entirely, long enough to fill a block or two of text.") == 0)
            let stats = engine.stats
            #expect(stats.prefixCacheHits == 112)
            let metrics = try await client.metrics()
            #expect(metrics["vllm:prefix_cache_hits_total"] == 112)
            #expect(metrics["vllm:prefix_cache_queries_total"] == Double(stats.prefixCacheQueries))
            #expect(stats.prefixCacheQueries == 81 + 81 + 81 + 19)
        }
    }
}
