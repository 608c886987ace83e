import Foundation
import MockEngine
import NIOHTTP1
import Testing

@Suite("Client hang-ups")
struct CancellationTests {
    @Test("A client leaving mid-stream is counted as cancelled and frees its slot")
    func midStream() async throws {
        try await withEngine(MockEngineConfiguration(decodeTokensPerSecond: 100)) { engine, client in
            let reader = StreamReader(client, json: chatJSON("long", maxTokens: 10_000, stream: true))
            #expect(await eventually { reader.events.count >= 3 })
            await reader.cancel()
            #expect(await eventually { engine.stats.requestsCancelled == 1 })
            let stats = engine.stats
            #expect(stats.running == 0)
            #expect(stats.requestsCompleted == 0)
            #expect(stats.requestsFailed == 0)
        }
    }

    @Test("A client leaving a non-streamed request before its answer is counted as cancelled")
    func beforeFullAnswer() async throws {
        try await withEngine(MockEngineConfiguration(decodeTokensPerSecond: 100)) { engine, client in
            let request = Task {
                try await client.send(.POST, "/v1/chat/completions", json: chatJSON("x", maxTokens: 10_000))
            }
            #expect(await eventually { engine.stats.running == 1 })
            request.cancel()
            _ = await request.result
            #expect(await eventually { engine.stats.requestsCancelled == 1 && engine.stats.running == 0 })
        }
    }

    @Test("A client leaving while its request waits for a slot leaves the queue")
    func whileWaiting() async throws {
        try await withEngine(MockEngineConfiguration(maxRunning: 1)) { engine, client in
            let blocker = StreamReader(client, json: chatJSON("blocker", maxTokens: 100_000, stream: true))
            #expect(await eventually { engine.stats.running == 1 })
            let waiter = StreamReader(client, json: chatJSON("waiter", maxTokens: 1, stream: true))
            #expect(await eventually { engine.stats.waiting == 1 })
            await waiter.cancel()
            #expect(await eventually { engine.stats.waiting == 0 && engine.stats.requestsCancelled == 1 })
            #expect(engine.stats.running == 1)
            await blocker.cancel()
            #expect(await eventually { engine.stats.running == 0 && engine.stats.requestsCancelled == 2 })
            #expect(engine.stats.admissionOrder == [1])
        }
    }
}
