import Foundation
import MockEngine
import NIOHTTP1
import Testing

@Suite("Full responses, models and health")
struct CompletionTests {
    @Test("A chat completion has OpenAI's shape and deterministic text")
    func chatCompletion() async throws {
        try await withEngine { _, client in
            let (status, body, headers) = try await client.send(
                .POST,
                "/v1/chat/completions",
                json: chatJSON("Hello there", maxTokens: 3)
            )
            #expect(status == 200)
            #expect(headers["content-type"].first == "application/json")
            let response = try jsonObject(body)
            #expect(response["object"] as? String == "chat.completion")
            #expect((response["id"] as? String)?.hasPrefix("chatcmpl-") == true)
            let choice = try #require((response["choices"] as? [[String: Any]])?.first)
            let message = try #require(choice["message"] as? [String: Any])
            #expect(message["role"] as? String == "assistant")
            #expect(message["content"] as? String == "tok0 tok1 tok2")
            #expect(choice["finish_reason"] as? String == "length")
            let usage = try #require(response["usage"] as? [String: Any])
            // "user: Hello there\n" = 18 bytes → 5 tokens.
            #expect(usage["prompt_tokens"] as? Int == 5)
            #expect(usage["completion_tokens"] as? Int == 3)
            #expect(usage["total_tokens"] as? Int == 8)
            #expect((usage["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int == 0)
        }
    }

    @Test("A completion without max_tokens generates the configured default and stops")
    func completionDefaults() async throws {
        try await withEngine(MockEngineConfiguration(defaultMaxTokens: 5)) { _, client in
            let (status, body, _) = try await client.send(.POST, "/v1/completions", json: #"{"prompt": "Say"}"#)
            #expect(status == 200)
            let response = try jsonObject(body)
            #expect(response["object"] as? String == "text_completion")
            #expect(response["model"] as? String == "mock-model")
            let choice = try #require((response["choices"] as? [[String: Any]])?.first)
            #expect(choice["text"] as? String == "tok0 tok1 tok2 tok3 tok4")
            #expect(choice["finish_reason"] as? String == "stop")
        }
    }

    @Test("max_completion_tokens takes precedence over max_tokens")
    func maxCompletionTokens() async throws {
        try await withEngine { _, client in
            let json = #"{"messages": [{"role": "user", "content": "x"}], "max_tokens": 9, "max_completion_tokens": 2}"#
            let (_, body, _) = try await client.send(.POST, "/v1/chat/completions", json: json)
            let usage = try #require(try jsonObject(body)["usage"] as? [String: Any])
            #expect(usage["completion_tokens"] as? Int == 2)
        }
    }

    @Test("/v1/models lists the configured models; another model is a 404 in OpenAI's shape")
    func models() async throws {
        try await withEngine(MockEngineConfiguration(models: ["a", "b"])) { _, client in
            let (status, body, _) = try await client.send(.GET, "/v1/models")
            #expect(status == 200)
            let data = try #require(try jsonObject(body)["data"] as? [[String: Any]])
            #expect(data.compactMap { $0["id"] as? String } == ["a", "b"])

            let (okStatus, _, _) = try await client.send(
                .POST,
                "/v1/chat/completions",
                json: chatJSON("x", maxTokens: 1, model: "b")
            )
            #expect(okStatus == 200)
            let (missing, errorBody, _) = try await client.send(
                .POST,
                "/v1/chat/completions",
                json: chatJSON("x", model: "gpt-4")
            )
            #expect(missing == 404)
            let error = try #require(try jsonObject(errorBody)["error"] as? [String: Any])
            #expect(error["param"] as? String == "model")
            #expect(error["code"] as? String == "model_not_found")
            #expect((error["message"] as? String)?.contains("gpt-4") == true)
            #expect(error["type"] as? String == "invalid_request_error")
        }
    }

    @Test("/health follows setHealthy")
    func health() async throws {
        try await withEngine { engine, client in
            let healthy = try await client.status(.GET, "/health")
            #expect(healthy == 200)
            engine.setHealthy(false)
            let unhealthy = try await client.status(.GET, "/health")
            #expect(unhealthy == 503)
            #expect(engine.stats.healthy == false)
            engine.setHealthy(true)
            let healthyAgain = try await client.status(.GET, "/health")
            #expect(healthyAgain == 200)
        }
    }

    @Test("The engine records headers, body and priority of what it received")
    func records() async throws {
        try await withEngine { engine, client in
            let json = chatJSON("remember me", maxTokens: 1, priority: 7)
            _ = try await client.send(
                .POST,
                "/v1/chat/completions",
                json: json,
                headers: [("Authorization", "Bearer sk-test")]
            )
            _ = try await client.send(.POST, "/v1/completions", json: #"{"prompt": "x", "max_tokens": 1}"#)
            let stats = engine.stats
            #expect(stats.requestsReceived == 2)
            #expect(stats.requestsCompleted == 2)
            #expect(stats.recentRequests.count == 2)
            let first = try #require(stats.recentRequests.first)
            #expect(first.header("authorization") == "Bearer sk-test")
            #expect(first.body == json)
            #expect(first.priority == 7)
            #expect(first.path == "/v1/chat/completions")
            #expect(first.stream == false)
            let last = try #require(stats.lastRequest)
            #expect(last.sequence == 2)
            #expect(last.priority == nil)
            #expect(last.path == "/v1/completions")
        }
    }
}
