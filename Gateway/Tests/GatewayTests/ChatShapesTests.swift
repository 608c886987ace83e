import Foundation
import MockEngine
import Testing

@testable import PrefixGateway

/// Valid OpenAI chat bodies in every message shape reach a replica: the gateway never answers 400 to them.
@Suite("Chat request shapes", .serialized)
struct ChatShapesTests {
    // Catches: a routing decoder that accepts only string content (a 400 for content parts, null content with
    // tool calls, or tool messages), and a gateway that rewrites the body it forwards.
    @Test("content parts, null content with tool calls, tool messages and tools are routed and forwarded as sent")
    func everyMessageShapeIsRouted() async throws {
        try await withGateway(engines: 2) { harness in
            let body = """
                {"model":"\(testModel)","stream":false,"max_tokens":2,
                 "tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object",\
                "properties":{"city":{"type":"string"}}}}}],
                 "messages":[
                  {"role":"system","content":[{"type":"text","text":"You are terse."}]},
                  {"role":"user","content":[{"type":"text","text":"What is this?"},
                    {"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]},
                  {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",\
                "function":{"name":"get_weather","arguments":"{\\"city\\":\\"Paris\\"}"}}]},
                  {"role":"tool","tool_call_id":"call_1","content":"sunny"},
                  {"role":"user","content":"thanks","x_unknown_field":7}
                 ]}
                """
            let before = harness.requestsPerEngine.reduce(0, +)
            let reply = try await harness.post("/v1/chat/completions", body: body)
            #expect(reply.status != 400, "gateway refused a valid body: \(reply.body)")
            #expect(harness.requestsPerEngine.reduce(0, +) == before + 1)
            let forwarded = harness.engines.compactMap { $0.stats.lastRequest?.body }
            #expect(forwarded.contains(body))
            try await harness.expectIdle()
        }
    }

    // Catches: a decoder that silently accepts a message without a role (it would hash an empty role).
    @Test("a message without a role is a 400 naming the field")
    func missingRole() async throws {
        try await withGateway(engines: 1) { harness in
            let body = #"{"model":"\#(testModel)","messages":[{"content":"hi"}]}"#
            let reply = try await harness.post("/v1/chat/completions", body: body)
            #expect(reply.status == 400)
            #expect(reply.body.contains("messages[0].role") || reply.body.contains("role"))
            #expect(harness.requestsPerEngine.reduce(0, +) == 0)
        }
    }
}
