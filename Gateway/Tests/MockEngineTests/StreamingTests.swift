import Foundation
import MockEngine
import NIOHTTP1
import Testing

@Suite("Streaming responses")
struct StreamingTests {
    @Test("A chat stream is a role chunk, one chunk per token, then [DONE], with no usage unless asked")
    func chatStreamShape() async throws {
        try await withEngine { _, client in
            let (status, body, headers) = try await client.send(
                .POST,
                "/v1/chat/completions",
                json: chatJSON("Hello", maxTokens: 4, stream: true)
            )
            #expect(status == 200)
            #expect(headers["content-type"].first?.hasPrefix("text/event-stream") == true)
            let events = sseEvents(body)
            try #require(events.count == 6)  // role, 4 tokens, [DONE]
            #expect(events.last == "[DONE]")
            var text = ""
            for (position, event) in events.dropLast().enumerated() {
                let chunk = try jsonObject(event)
                #expect(chunk["object"] as? String == "chat.completion.chunk")
                #expect(chunk["model"] as? String == "mock-model")
                #expect(chunk["usage"] == nil)
                let choices = try #require(chunk["choices"] as? [[String: Any]])
                let choice = try #require(choices.first)
                let delta = try #require(choice["delta"] as? [String: Any])
                if position == 0 { #expect(delta["role"] as? String == "assistant") }
                text += delta["content"] as? String ?? ""
                let finish = choice["finish_reason"] as? String
                #expect(finish == (position == 4 ? "length" : nil))
            }
            #expect(text == "tok0 tok1 tok2 tok3")
        }
    }

    @Test("include_usage adds a final chunk with empty choices and usage, before [DONE]")
    func usageChunk() async throws {
        try await withEngine { _, client in
            let prompt = String(repeating: "a", count: 40)
            let (_, body, _) = try await client.send(
                .POST,
                "/v1/chat/completions",
                json: chatJSON(prompt, maxTokens: 3, stream: true, includeUsage: true)
            )
            let events = sseEvents(body)
            try #require(events.count == 6)  // role, 3 tokens, usage, [DONE]
            #expect(events[5] == "[DONE]")
            let usageChunk = try jsonObject(events[4])
            #expect((usageChunk["choices"] as? [Any])?.isEmpty == true)
            let usage = try #require(usageChunk["usage"] as? [String: Any])
            // "user: " + 40 × "a" + "\n" = 47 bytes → 12 tokens.
            #expect(usage["prompt_tokens"] as? Int == 12)
            #expect(usage["completion_tokens"] as? Int == 3)
            #expect(usage["total_tokens"] as? Int == 15)
            let details = try #require(usage["prompt_tokens_details"] as? [String: Any])
            #expect(details["cached_tokens"] as? Int == 0)

            let (_, withoutUsage, _) = try await client.send(
                .POST,
                "/v1/chat/completions",
                json: chatJSON(prompt, maxTokens: 3, stream: true, includeUsage: false)
            )
            #expect(sseEvents(withoutUsage).count == 5)
            #expect(!withoutUsage.contains("\"usage\""))
        }
    }

    @Test("A completions stream uses text_completion chunks with choices[0].text")
    func completionStreamShape() async throws {
        try await withEngine { _, client in
            let (status, body, _) = try await client.send(
                .POST,
                "/v1/completions",
                json:
                    #"{"model": "mock-model", "prompt": [1, 2, 3, 4, 5], "max_tokens": 2, "stream": true, "stream_options": {"include_usage": true}}"#
            )
            #expect(status == 200)
            let events = sseEvents(body)
            try #require(events.count == 4)  // 2 tokens, usage, [DONE]
            let texts = try events.prefix(2).map { event -> String in
                let chunk = try jsonObject(event)
                #expect(chunk["object"] as? String == "text_completion")
                let choices = try #require(chunk["choices"] as? [[String: Any]])
                return try #require(choices.first?["text"] as? String)
            }
            #expect(texts == ["tok0", " tok1"])
            let usage = try #require(try jsonObject(events[2])["usage"] as? [String: Any])
            #expect(usage["prompt_tokens"] as? Int == 5)  // one token per id
        }
    }

    @Test("Tokens stream at the decode rate, after the prefill")
    func decodeRate() async throws {
        let configuration = MockEngineConfiguration(decodeTokensPerSecond: 50)
        try await withEngine(configuration) { _, client in
            let start = ContinuousClock.now
            let (_, body, _) = try await client.send(
                .POST,
                "/v1/completions",
                json: #"{"prompt": "hi", "max_tokens": 11, "stream": true}"#
            )
            let elapsed = ContinuousClock.now - start
            #expect(sseEvents(body).count == 12)
            // 10 intervals of 20 ms after the first token.
            #expect(elapsed >= .milliseconds(200))
            #expect(elapsed < .seconds(3))
        }
    }
}
