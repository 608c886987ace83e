import AsyncHTTPClient
import Foundation
import MockEngine
import NIOHTTP1
import Testing

@Suite("Injected faults")
struct FaultTests {
    @Test("refuseConnections closes new and kept-alive connections; turning it off restores service")
    func refuseConnections() async throws {
        try await withEngine { engine, client in
            let json = chatJSON("x", maxTokens: 1)
            // /health keeps its connection alive: one stays in the client's pool.
            let before = try await client.status(.GET, "/health")
            #expect(before == 200)
            engine.setFaults(MockEngineFaults(refuseConnections: true))
            await #expect(throws: (any Error).self) {
                _ = try await client.send(.GET, "/health")
            }
            await #expect(throws: (any Error).self) {
                _ = try await client.send(.POST, "/v1/chat/completions", json: json)
            }
            #expect(engine.stats.requestsReceived == 0)
            engine.setFaults(MockEngineFaults())
            let restored = try await client.status(.POST, "/v1/chat/completions", json: json)
            #expect(restored == 200)
        }
    }

    @Test("dieAfterTokens cuts a stream after that many tokens")
    func dieMidStream() async throws {
        let configuration = MockEngineConfiguration(faults: MockEngineFaults(dieAfterTokens: 3))
        try await withEngine(configuration) { engine, client in
            let reader = StreamReader(client, json: chatJSON("x", maxTokens: 10, stream: true))
            await #expect(throws: (any Error).self) { _ = try await reader.finish() }
            let events = reader.events
            #expect(events.count == 4)  // role and three tokens, no [DONE]
            #expect(!events.contains("[DONE]"))
            #expect(await eventually { engine.stats.requestsFailed == 1 && engine.stats.running == 0 })
            #expect(engine.stats.requestsCompleted == 0)
        }
    }

    @Test("dieAfterTokens cuts a non-streamed response too")
    func dieFullResponse() async throws {
        let configuration = MockEngineConfiguration(faults: MockEngineFaults(dieAfterTokens: 1))
        try await withEngine(configuration) { engine, client in
            await #expect(throws: (any Error).self) {
                _ = try await client.send(.POST, "/v1/chat/completions", json: chatJSON("x", maxTokens: 5))
            }
            #expect(engine.stats.requestsFailed == 1)
        }
    }

    @Test("stallAfterTokens stops sending but keeps the stream open until the client leaves")
    func stall() async throws {
        try await withEngine { engine, client in
            engine.setFaults(MockEngineFaults(stallAfterTokens: 2))
            let reader = StreamReader(client, json: chatJSON("x", maxTokens: 10, stream: true))
            #expect(await eventually { reader.events.count == 3 })  // role and two tokens
            try await Task.sleep(for: .milliseconds(200))
            #expect(reader.events.count == 3)
            #expect(engine.stats.running == 1)
            await reader.cancel()
            #expect(await eventually { engine.stats.requestsCancelled == 1 && engine.stats.running == 0 })
        }
    }

    @Test("failStatus answers every inference request with that status in OpenAI's shape")
    func failStatus() async throws {
        try await withEngine { engine, client in
            engine.setFaults(MockEngineFaults(failStatus: 503))
            let (status, body, _) = try await client.send(.POST, "/v1/chat/completions", json: chatJSON("x"))
            #expect(status == 503)
            let error = try #require(try jsonObject(body)["error"] as? [String: Any])
            #expect(error["type"] as? String == "server_error")
            #expect(error["message"] is String)
            // Even a bad body gets the injected status; health is unaffected.
            let badBody = try await client.status(.POST, "/v1/completions", json: "{}")
            #expect(badBody == 503)
            let health = try await client.status(.GET, "/health")
            #expect(health == 200)
            #expect(engine.stats.requestsFailed == 2)
            engine.setFaults(MockEngineFaults())
            let restored = try await client.status(.POST, "/v1/chat/completions", json: chatJSON("x"))
            #expect(restored == 200)
        }
    }
}
