import AsyncHTTPClient
import Foundation
import MockEngine
import NIOCore
import NIOHTTP1
import PrefixRouter
import Testing

@testable import PrefixGateway

/// The request path through real HTTP: gateway on loopback in front of mock engines.
@Suite("Request path", .serialized)
struct RequestPathTests {
    /// Replaces what differs between two runs of the same request on the mock: the response id and the
    /// creation time.
    private func normalized(_ text: String) -> String {
        var text = text
        for pattern in [#""id":"[^"]*""#, #""created":[0-9]+"#] {
            text = text.replacingOccurrences(of: pattern, with: "_", options: .regularExpression)
        }
        return text
    }

    @Test("streaming passes the body through unchanged, both ways, chunk by chunk")
    func streamingPassthrough() async throws {
        try await withGateway(engines: 1) { harness in
            let body = harness.chat([("system", "You are terse. ✓ ünïcødé"), ("user", "Say hi")], maxTokens: 6)
                .replacingOccurrences(
                    of: #""stream":true"#,
                    with: #""stream":true,"temperature":0.5,"x_extra":{"k":[1,2]}"#
                )
            var request = HTTPClientRequest(url: harness.baseURL + "/v1/chat/completions")
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/json")
            request.headers.add(name: "authorization", value: "Bearer client-secret")
            request.headers.add(name: "x-request-id", value: "test-request-1")
            request.body = .bytes(ByteBuffer(string: body))
            let response = try await harness.client.execute(request, timeout: .seconds(30))
            #expect(response.status == .ok)
            #expect(response.headers.first(name: "content-type")?.hasPrefix("text/event-stream") == true)
            #expect(response.headers.first(name: "x-request-id") == "test-request-1")
            var parts = 0
            var received = ByteBuffer()
            for try await var chunk in response.body {
                parts += 1
                received.writeBuffer(&chunk)
            }
            let viaGateway = String(buffer: received)

            // The engine got the client's bytes exactly (but for the usage request, added right after the
            // opening brace: see UsageTests), the request id, and not the client's credentials.
            let record = try #require(harness.engines[0].stats.lastRequest)
            #expect(record.body == #"{"stream_options":{"include_usage":true},"# + body.dropFirst())
            #expect(record.header("x-request-id") == "test-request-1")
            #expect(record.header("authorization") == nil)

            // The same request sent to the engine directly gives the same bytes (up to id and time).
            var direct = HTTPClientRequest(
                url: harness.gateway.core.runtime.directory.endpoints.values.first!.url("/v1/chat/completions")
            )
            direct.method = .POST
            direct.headers.add(name: "content-type", value: "application/json")
            direct.body = .bytes(ByteBuffer(string: body))
            let directResponse = try await harness.client.execute(direct, timeout: .seconds(30))
            let directText = String(buffer: try await directResponse.body.collect(upTo: 1 << 20))
            #expect(normalized(viaGateway) == normalized(directText))
            #expect(viaGateway.hasSuffix("data: [DONE]\n\n"))
            #expect(parts > 1, "SSE chunks are relayed as they come, not buffered into one")
            try await harness.expectIdle()
        }
    }

    @Test("non-streamed requests are relayed with the engine's status and body")
    func nonStreamed() async throws {
        try await withGateway(engines: 1) { harness in
            let reply = try await harness.post(
                "/v1/chat/completions",
                body: harness.chat([("user", "hi")], stream: false)
            )
            #expect(reply.status == 200)
            #expect(reply.body.contains(#""object":"chat.completion""#))
            #expect(reply.headers.first(name: "x-request-id")?.count == 32)
            let completion = try await harness.post(
                "/v1/completions",
                body: #"{"model":"\#(testModel)","prompt":[1,2,3,4],"max_tokens":2}"#
            )
            #expect(completion.status == 200)
            try await harness.expectIdle()
        }
    }

    @Test("the upstream Authorization comes from the replica's configuration")
    func upstreamAuthorization() async throws {
        try await gatewayFixture(engines: 1, configure: { $0.replicas[0].apiKey = "replica-key" }).run { harness in
            let reply = try await harness.post(
                "/v1/chat/completions",
                body: harness.chat([("user", "hi")], stream: false),
                headers: [("authorization", "Bearer not-for-upstream")]
            )
            #expect(reply.status == 200)
            #expect(harness.engines[0].stats.lastRequest?.header("authorization") == "Bearer replica-key")
        }
    }

    // Catches: a conversation scattered as it grows, by the ring (prefix-affinity) or by the estimate (the
    // default estimated-ttft, and estimated-ttft-single).
    @Test(
        "the same conversation goes to the same replica as it grows",
        arguments: [RoutingStrategyName.prefixAffinity, .estimatedTTFT, .estimatedTTFTSingle]
    )
    func conversationAffinity(strategy: RoutingStrategyName) async throws {
        try await gatewayFixture(engines: 4, configure: { $0.routing.strategy = strategy }).run { harness in
            // Longer than the prefix-affinity key depth (2,048 tokens ≈ 8 KiB): every turn shares the key.
            let system = String(repeating: "You are a careful assistant for the accounting team. ", count: 200)
            var messages: [(String, String)] = [("system", system), ("user", "First question about invoices?")]
            for turn in 0..<6 {
                let reply = try await harness.post("/v1/chat/completions", body: harness.chat(messages, stream: false))
                #expect(reply.status == 200)
                messages.append(("assistant", "Answer \(turn)"))
                messages.append(("user", "Follow-up \(turn)"))
            }
            let counts = harness.requestsPerEngine
            #expect(counts.reduce(0, +) == 6)
            #expect(counts.max() == 6, "all turns on one replica: \(counts)")
            try await harness.expectIdle()
        }
    }

    @Test("a client that hangs up cancels the upstream request and releases everything")
    func clientDisconnect() async throws {
        let slow = MockEngineConfiguration(models: [testModel], decodeTokensPerSecond: 10, defaultMaxTokens: 1_000)
        try await withGateway(engines: 1, engine: slow) { harness in
            let (task, hangUp) = try await openStream(harness, "tell me a long story")
            try await harness.eventually("stream running") { harness.engines[0].stats.running == 1 }
            #expect(harness.gateway.snapshot().replicas[0].outstanding == 1)
            #expect(harness.gateway.inFlight == 1)
            hangUp.yield()
            try await task.value  // returning drops the body iterator: AsyncHTTPClient closes the connection
            try await harness.eventually("engine saw the cancellation") {
                harness.engines[0].stats.requestsCancelled == 1
            }
            #expect(harness.engines[0].stats.requestsCompleted == 0)
            try await harness.expectIdle()
        }
    }

    @Test("an upstream that dies mid-stream ends the stream with an SSE error event")
    func upstreamDiesMidStream() async throws {
        let dying = MockEngineConfiguration(
            models: [testModel],
            decodeTokensPerSecond: 1_000,
            faults: MockEngineFaults(dieAfterTokens: 3)
        )
        try await withGateway(engines: 1, engine: dying) { harness in
            let reply = try await harness.post(
                "/v1/chat/completions",
                body: harness.chat([("user", "hi")], maxTokens: 20)
            )
            #expect(reply.status == 200)
            #expect(reply.body.contains("tok2"))
            #expect(!reply.body.contains("[DONE]"))
            let last = reply.body.split(separator: "\n\n").last.map(String.init) ?? ""
            #expect(last.hasPrefix(#"data: {"error":"#), "last event: \(last)")
            #expect(last.contains("upstream_stream_error"))
            try await harness.expectIdle()
            let id = harness.gateway.snapshot().replicas[0].id
            let streamErrors = try await harness.metric(
                #"gateway_upstream_errors_total{replica="\#(id)",kind="stream_closed"}"#
            )
            #expect(streamErrors == 1)
        }
    }

    @Test("a refused connection is retried on another replica")
    func connectRefusedRetried() async throws {
        let dead = try await deadPort()
        try await gatewayFixture(
            engines: 1,
            extraReplicas: [ReplicaConfiguration(url: "http://127.0.0.1:\(dead)", models: [testModel])],
            configure: {
                $0.routing.strategy = .roundRobin
                $0.health.passiveFailureThreshold = 0
            }
        ).run { harness in
            for index in 0..<6 {
                let reply = try await harness.post(
                    "/v1/chat/completions",
                    body: harness.chat([("user", "question \(index)")], stream: index % 2 == 0)
                )
                #expect(reply.status == 200, "\(reply.body)")
            }
            #expect(harness.engines[0].stats.requestsReceived == 6)
            let retries = try await harness.metric(#"gateway_upstream_retries_total{endpoint="chat_completions"}"#)
            #expect(retries >= 3, "round robin sends every other request to the dead replica first")
            try await harness.expectIdle()
        }
    }

    @Test("no retries left: 502, and nothing leaks")
    func connectRefusedNoRetry() async throws {
        let dead = try await deadPort()
        try await gatewayFixture(
            engines: 0,
            extraReplicas: [ReplicaConfiguration(url: "http://127.0.0.1:\(dead)", models: [testModel])],
            configure: { $0.health.passiveFailureThreshold = 0 }
        ).run { harness in
            let reply = try await harness.post("/v1/chat/completions", body: harness.chat([("user", "hi")]))
            #expect(reply.status == 502)
            #expect(reply.body.contains("upstream_error"))
            try await harness.expectIdle()
        }
    }

    @Test("an upstream that stalls past the read timeout ends the stream with an SSE error event")
    func upstreamStalls() async throws {
        let stalling = MockEngineConfiguration(
            models: [testModel],
            decodeTokensPerSecond: 1_000,
            faults: MockEngineFaults(stallAfterTokens: 2)
        )
        try await gatewayFixture(engines: 1, engine: stalling, configure: { $0.upstream.readTimeoutSeconds = 0.3 }).run
        {
            harness in
            let reply = try await harness.post(
                "/v1/chat/completions",
                body: harness.chat([("user", "hi")], maxTokens: 20)
            )
            #expect(reply.status == 200)
            #expect(reply.body.contains("tok1"))
            let last = reply.body.split(separator: "\n\n").last.map(String.init) ?? ""
            #expect(last.hasPrefix(#"data: {"error":"#), "last event: \(last)")
            try await harness.expectIdle()
            try await harness.eventually("the engine saw the upstream request end") {
                harness.engines[0].stats.running == 0
            }
        }
    }

    @Test("prompt_cache_key and the session header pin requests with the sticky strategy")
    func sessionKeys() async throws {
        try await gatewayFixture(engines: 4, configure: { $0.routing.strategy = .sticky }).run { harness in
            for index in 0..<8 {
                let body = harness.chat([("user", "unrelated prompt number \(index)")], stream: false, maxTokens: 1)
                    .replacingOccurrences(
                        of: #""stream":false"#,
                        with: #""stream":false,"prompt_cache_key":"session-42""#
                    )
                #expect(try await harness.post("/v1/chat/completions", body: body).status == 200)
            }
            #expect(harness.requestsPerEngine.max() == 8, "\(harness.requestsPerEngine)")
            let before = harness.requestsPerEngine
            for index in 0..<8 {
                let body = harness.chat([("user", "another prompt \(index)")], stream: false, maxTokens: 1)
                let reply = try await harness.post(
                    "/v1/chat/completions",
                    body: body,
                    headers: [("x-session-id", "s-7")]
                )
                #expect(reply.status == 200)
            }
            let added = zip(harness.requestsPerEngine, before).map { $0 - $1 }
            #expect(added.max() == 8, "the session header pins too: \(added)")
            #expect(harness.requestsPerEngine.reduce(0, +) == 16)
            try await harness.expectIdle()
        }
    }
}
