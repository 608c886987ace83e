import Foundation
@_spi(Internals) import PrefixRouter
import Testing

/// Decoding OpenAI chat-completions bodies into ``ChatMessage`` and ``JSONValue``: every valid body decodes, so
/// that a gateway never answers 400 to a request the API accepts; malformed ones fail naming the member.
@Suite struct HashingChatDecodingTests {
    static func decode(_ json: String) throws -> OpenAIChatBody {
        try JSONDecoder().decode(OpenAIChatBody.self, from: Data(json.utf8))
    }

    /// Mutation caught: content parts rejected or mis-decoded (text parts not recognised, image parts dropped,
    /// unknown members of a message or a part rejected).
    @Test func contentPartsWithImages() throws {
        let body = try Self.decode(
            #"""
            {"model": "gpt-4o", "stream": true, "temperature": 0.2,
             "messages": [
               {"role": "developer", "content": [{"type": "text", "text": "Be brief."}]},
               {"role": "user", "name": "ana", "cache_control": {"type": "ephemeral"},
                "content": [
                  {"type": "text", "text": "What is in this image?"},
                  {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "high"}},
                  {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
                  {"type": "text", "text": "And this one?", "annotations": []}
                ]}
             ]}
            """#
        )
        #expect(body.messages.count == 2)
        #expect(body.messages[0] == ChatMessage(role: "developer", content: .parts([.text("Be brief.")])))
        let user = body.messages[1]
        #expect(user.role == "user")
        #expect(user.name == "ana")
        guard case .parts(let parts)? = user.content else {
            Issue.record("expected content parts, found \(String(describing: user.content))")
            return
        }
        #expect(parts.map(\.type) == ["text", "image_url", "input_audio", "text"])
        #expect(parts[0] == .text("What is in this image?"))
        #expect(parts[3] == .text("And this one?"))
        #expect(
            parts[1]
                == .other(
                    .object([
                        "type": .string("image_url"),
                        "image_url": .object([
                            "url": .string("data:image/png;base64,iVBORw0KGgo="), "detail": .string("high"),
                        ]),
                    ])
                )
        )
        #expect(user.content?.plainText == "What is in this image?\nAnd this one?")
        let hasher = try PrefixHasher(blockSize: 4)
        // A single text part hashes like the plain string.
        #expect(
            hasher.blockHashes(ofChat: [body.messages[0]])
                == hasher.blockHashes(ofChat: [ChatMessage(role: "developer", content: "Be brief.")])
        )
    }

    /// Mutation caught: `null` or absent content rejected, `tool_calls` or `tool_call_id` not decoded, or a
    /// tool call's arguments re-parsed instead of kept as the string they are.
    @Test func toolCallsNullContentAndToolMessages() throws {
        let body = try Self.decode(
            #"""
            {"model": "llama-3.1-8b",
             "tool_choice": "auto",
             "tools": [{"type": "function", "function": {"name": "get_weather", "strict": true,
                        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
             "messages": [
               {"role": "user", "content": "Weather in Paris and Rome?"},
               {"role": "assistant", "content": null, "refusal": null,
                "tool_calls": [
                  {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}},
                  {"id": "call_2", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\": \"Rome\"}"}}
                ]},
               {"role": "tool", "tool_call_id": "call_1", "content": "18 °C"},
               {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "21 °C"}]},
               {"role": "assistant", "tool_calls": [{"id": "call_3", "type": "function",
                                                     "function": {"name": "get_weather", "arguments": "{}"}}]},
               {"role": "assistant", "content": "Paris 18 °C, Rome 21 °C.", "function_call": null, "audio": null}
             ]}
            """#
        )
        #expect(body.messages.count == 6)
        let tools = try #require(body.tools)
        #expect(tools.count == 1)
        let assistant = body.messages[1]
        #expect(assistant.content == nil)
        let calls = try #require(assistant.toolCalls)
        #expect(calls.count == 2)
        guard case .object(let call) = calls[0], case .object(let function)? = call["function"] else {
            Issue.record("expected a tool call object, found \(calls[0])")
            return
        }
        #expect(call["id"] == .string("call_1"))
        #expect(function["arguments"] == .string(#"{"city": "Paris"}"#))
        #expect(body.messages[2] == ChatMessage(role: "tool", content: .text("18 °C"), toolCallID: "call_1"))
        #expect(body.messages[3].toolCallID == "call_2")
        #expect(body.messages[3].content == .parts([.text("21 °C")]))
        #expect(body.messages[4].content == nil, "absent content")
        #expect(body.messages[4].toolCalls?.count == 1)
        #expect(body.messages[5].toolCalls == nil)

        // Everything decoded is hashed: the calls, the ids and the tools each change the hashes.
        let hasher = try PrefixHasher(blockSize: 4)
        let full = hasher.blockHashes(ofChat: body.messages, tools: tools)
        #expect(full != hasher.blockHashes(ofChat: body.messages))
        var withoutCalls = body.messages
        withoutCalls[1].toolCalls = nil
        #expect(full != hasher.blockHashes(ofChat: withoutCalls, tools: tools))
        var otherID = body.messages
        otherID[2].toolCallID = "call_x"
        #expect(full != hasher.blockHashes(ofChat: otherID, tools: tools))
    }

    /// Mutation caught: the wire keys renamed, or an encoding that does not decode back to the same message.
    @Test func codableRoundTripUsesTheWireKeys() throws {
        let json = #"[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi","name":"ana"}]"#
        let messages = try JSONDecoder().decode([ChatMessage].self, from: Data(json.utf8))
        #expect(
            messages == [
                ChatMessage(role: "system", content: "Be brief."),
                ChatMessage(role: "user", content: "Hi", name: "ana"),
            ]
        )
        let all = [
            ChatMessage(role: "user", content: .parts([.text("a"), .other(.object(["type": .string("file")]))])),
            ChatMessage(
                role: "assistant",
                content: nil,
                toolCalls: [.object(["id": .string("c"), "type": .string("function")])]
            ),
            ChatMessage(role: "tool", content: .text("42"), toolCallID: "c"),
        ]
        let encoded = try JSONEncoder().encode(all)
        #expect(try JSONDecoder().decode([ChatMessage].self, from: encoded) == all)
        let object = try #require(
            try JSONSerialization.jsonObject(with: encoded) as? [[String: Any]],
            "an array of objects"
        )
        #expect(object[1]["tool_calls"] != nil)
        #expect(object[1]["content"] is NSNull, "nil content encodes as null")
        #expect(object[2]["tool_call_id"] as? String == "c")
        #expect((object[0]["content"] as? [[String: Any]])?.first?["text"] as? String == "a")
    }

    /// Mutation caught: malformed messages accepted silently, or rejected without naming the member.
    @Test(arguments: [
        (#"[{"content": "hi"}]"#, "role"),
        (#"[{"role": 7, "content": "hi"}]"#, "role"),
        (#"[{"role": "user", "content": 42}]"#, "content"),
        (#"[{"role": "user", "content": [{"text": "no type"}]}]"#, "content part"),
        (#"[{"role": "user", "content": [{"type": "text"}]}]"#, "\"text\""),
        (#"[{"role": "user", "content": ["bare string"]}]"#, "content part"),
        (#"[{"role": "user", "content": "hi", "name": 3}]"#, "name"),
        (#"[{"role": "tool", "content": "hi", "tool_call_id": ["x"]}]"#, "tool_call_id"),
        (#"[{"role": "assistant", "content": null, "tool_calls": {"id": "x"}}]"#, "tool_calls"),
    ])
    func malformedMessagesFailNamingTheMember(json: String, member: String) {
        do {
            let messages = try JSONDecoder().decode([ChatMessage].self, from: Data(json.utf8))
            Issue.record("decoded \(messages) from \(json)")
        } catch let error as DecodingError {
            let context: DecodingError.Context? =
                switch error {
                case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
                    context
                case .keyNotFound(let key, let context):
                    DecodingError.Context(
                        codingPath: context.codingPath + [key],
                        debugDescription: context.debugDescription
                    )
                @unknown default: nil
                }
            let path = context?.codingPath.map(\.stringValue).joined(separator: ".") ?? ""
            let described = path + " " + (context?.debugDescription ?? "")
            #expect(described.contains(member), "\(json): \(described)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}
