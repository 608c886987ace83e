import Foundation
import MockEngine
import NIOHTTP1
import Testing

@Suite("OpenAI-shaped 400s")
struct ErrorTests {
    /// A bad body, the field the error must name (nil: none), and the code expected.
    static let cases: [(path: String, body: String, param: String?, code: String)] = [
        ("/v1/chat/completions", "not json", nil, "invalid_json"),
        ("/v1/chat/completions", "[1, 2]", nil, "invalid_json"),
        ("/v1/chat/completions", #"{"model": "mock-model"}"#, "messages", "missing_required_parameter"),
        ("/v1/chat/completions", #"{"messages": []}"#, "messages", "invalid_value"),
        (
            "/v1/chat/completions", #"{"messages": [{"content": "x"}]}"#, "messages[0].role",
            "missing_required_parameter"
        ),
        (
            "/v1/chat/completions", #"{"messages": [{"role": "user", "content": 3}]}"#, "messages[0].content",
            "invalid_type"
        ),
        (
            "/v1/chat/completions", #"{"messages": [{"role": "user", "content": "x"}], "max_tokens": 1.5}"#,
            "max_tokens", "invalid_type"
        ),
        (
            "/v1/chat/completions", #"{"messages": [{"role": "user", "content": "x"}], "max_tokens": 0}"#, "max_tokens",
            "invalid_value"
        ),
        (
            "/v1/chat/completions", #"{"messages": [{"role": "user", "content": "x"}], "priority": "high"}"#,
            "priority", "invalid_type"
        ),
        (
            "/v1/chat/completions", #"{"messages": [{"role": "user", "content": "x"}], "stream": "yes"}"#, "stream",
            "invalid_type"
        ),
        (
            "/v1/chat/completions",
            #"{"messages": [{"role": "user", "content": "x"}], "stream_options": {"include_usage": true}}"#,
            "stream_options", "invalid_value"
        ),
        ("/v1/completions", #"{"model": "mock-model"}"#, "prompt", "missing_required_parameter"),
        ("/v1/completions", #"{"prompt": 5}"#, "prompt", "invalid_type"),
        ("/v1/completions", #"{"prompt": ""}"#, "prompt", "invalid_value"),
        ("/v1/completions", #"{"prompt": "x", "max_tokens": -1}"#, "max_tokens", "invalid_value"),
    ]

    @Test("A bad body is a 400 naming the field", arguments: cases)
    func badBody(path: String, body: String, param: String?, code: String) async throws {
        try await withEngine { engine, client in
            let (status, text, headers) = try await client.send(.POST, path, json: body)
            #expect(status == 400)
            #expect(headers["content-type"].first == "application/json")
            let error = try #require(try jsonObject(text)["error"] as? [String: Any])
            #expect(Set(error.keys) == ["message", "type", "param", "code"])
            #expect(error["type"] as? String == "invalid_request_error")
            #expect(error["code"] as? String == code)
            if let param {
                #expect(error["param"] as? String == param)
                #expect((error["message"] as? String)?.contains(param) == true)
            } else {
                #expect(error["param"] is NSNull)
            }
            #expect(engine.stats.requestsFailed == 1)
            #expect(engine.stats.lastRequest?.body == body)
        }
    }

    @Test("A body over the limit is a 413")
    func tooLarge() async throws {
        try await withEngine(MockEngineConfiguration(maxBodyBytes: 64)) { _, client in
            let (status, text, _) = try await client.send(
                .POST,
                "/v1/chat/completions",
                json: chatJSON(String(repeating: "x", count: 200))
            )
            #expect(status == 413)
            #expect(try jsonObject(text)["error"] != nil)
        }
    }
}
