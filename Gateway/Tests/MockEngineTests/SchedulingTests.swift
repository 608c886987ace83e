import Foundation
import MockEngine
import NIOHTTP1
import Testing

@Suite("Scheduling")
struct SchedulingTests {
    @Test("maxRunning caps running sequences; the rest show as waiting in /metrics")
    func maxRunning() async throws {
        let configuration = MockEngineConfiguration(decodeTokensPerSecond: 20, maxRunning: 2)
        try await withEngine(configuration) { engine, client in
            let readers = (0..<5).map { _ in
                StreamReader(client, json: chatJSON("hold", maxTokens: 1_000, stream: true))
            }
            let queued = try await eventually {
                let metrics = try await client.metrics()
                return metrics["vllm:num_requests_running"] == 2 && metrics["vllm:num_requests_waiting"] == 3
            }
            #expect(queued)
            let stats = engine.stats
            #expect(stats.running == 2)
            #expect(stats.waiting == 3)
            #expect(stats.kvCacheUsage > 0)
            #expect(try await client.metrics()["vllm:kv_cache_usage_perc"] ?? 0 > 0)
            for reader in readers { await reader.cancel() }
            let drained = await eventually {
                let stats = engine.stats
                return stats.running == 0 && stats.waiting == 0 && stats.requestsCancelled == 5
            }
            #expect(drained)
            #expect(engine.stats.kvCacheUsage == 0)
        }
    }

    @Test("Waiting requests are admitted by priority (lower first), then in arrival order")
    func priorityOrder() async throws {
        try await withEngine(MockEngineConfiguration(maxRunning: 1)) { engine, client in
            let blocker = StreamReader(client, json: chatJSON("blocker", maxTokens: 100_000, stream: true))
            #expect(await eventually { engine.stats.running == 1 })
            var waiters: [StreamReader] = []
            for (count, priority) in [5, 1, 3, 0, 1].enumerated() {
                waiters.append(
                    StreamReader(client, json: chatJSON("p\(priority)", maxTokens: 2, stream: true, priority: priority))
                )
                // One at a time, so that arrival order is known: tickets 2...6.
                #expect(await eventually { engine.stats.waiting == count + 1 })
            }
            await blocker.cancel()
            for waiter in waiters { _ = try await waiter.finish() }
            // Tickets: blocker 1; priorities 5→2, 1→3, 3→4, 0→5, 1→6.
            #expect(engine.stats.admissionOrder == [1, 5, 3, 6, 4, 2])
            #expect(engine.stats.recentRequests.map(\.priority) == [nil, 5, 1, 3, 0, 1])
        }
    }

    @Test("Prefills go one at a time through the engine's queue")
    func prefillQueue() async throws {
        // 100-token prompts at 1,000 tokens/s: 100 ms each, 200 ms for two in a row.
        let configuration = MockEngineConfiguration(prefillTokensPerSecond: 1_000, prefillOverhead: .zero)
        try await withEngine(configuration) { _, client in
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for letter in ["a", "b"] {
                    group.addTask {
                        let prompt = String(repeating: letter, count: 400)
                        let (status, _, _) = try await client.send(
                            .POST,
                            "/v1/completions",
                            json: #"{"prompt": "\#(prompt)", "max_tokens": 1}"#
                        )
                        #expect(status == 200)
                    }
                }
                try await group.waitForAll()
            }
            #expect(ContinuousClock.now - start >= .milliseconds(195))
        }
    }
}
