import Foundation
@_spi(Internals) import PrefixRouter
import Testing

/// Tokenizer-free text hashing and the canonical chat serialization (schema version 2).
@Suite struct HashingTextChatTests {
    static let root = HashingReference.root(model: "", adapter: nil, cacheSalt: nil)

    @Test(arguments: [PrefixHasher.TailPolicy.dropPartial, .includePartial])
    func textChunksEqualHashingUTF8ByHand(policy: PrefixHasher.TailPolicy) throws {
        let texts = [
            "", "short", String(repeating: "The quick brown fox. ", count: 40),
            String(repeating: "ünïcødé 🦊 ", count: 30),  // multi-byte characters split across chunks
        ]
        for blockSize in [1, 4, 16] {
            let hasher = try PrefixHasher(blockSize: blockSize, tailPolicy: policy)
            #expect(hasher.textChunkBytes == 4 * blockSize)
            for text in texts {
                let expected = HashingReference.chain(
                    Array(text.utf8),
                    chunk: 4 * blockSize,
                    root: Self.root,
                    includeTail: policy == .includePartial
                )
                let hashes = hasher.blockHashes(ofText: text)
                #expect(hashes == expected, "blockSize \(blockSize), \(text.utf8.count) bytes")
                let raw = Array(text.utf8).withUnsafeBytes { hasher.blockHashes(ofUTF8: $0) }
                #expect(raw == expected)
            }
        }
    }

    @Test func routingRequestForPrompt() throws {
        let hasher = try PrefixHasher(blockSize: 16)
        let text = String(repeating: "é", count: 101)  // 202 UTF-8 bytes
        let request = hasher.routingRequest(prompt: text, sessionKey: "k")
        #expect(request.blockHashes == hasher.blockHashes(ofText: text))
        #expect(request.blockHashes.count == 3, "202 bytes = 3 full chunks of 64")
        #expect(request.tokenCount == 51, "⌈202 / 4⌉")
        #expect(request.blockSize == 16)
        #expect(request.sessionKey == "k")
        #expect(hasher.routingRequest(prompt: "").tokenCount == 0)
        #expect(PrefixHasher.estimatedTokenCount(forByteCount: 4) == 1)
        #expect(PrefixHasher.estimatedTokenCount(forByteCount: 5) == 2)
    }

    /// Layouts that concatenate to similar characters; every pair must serialize (and hash) differently.
    static let layouts: [[ChatMessage]] = [
        [],
        [ChatMessage(role: "user", content: "ab")],
        [ChatMessage(role: "user", content: "a"), ChatMessage(role: "user", content: "b")],
        [ChatMessage(role: "system", content: "a"), ChatMessage(role: "user", content: "b")],
        [ChatMessage(role: "user", content: "a\u{0}b")],
        [ChatMessage(role: "user", content: "a\u{0}\u{0}b")],
        [ChatMessage(role: "user", content: "ab", name: "")],
        [ChatMessage(role: "user", content: "ab", name: "a")],
        [ChatMessage(role: "usera", content: "b")],
        [ChatMessage(role: "user", content: ""), ChatMessage(role: "user", content: "ab")],
        [ChatMessage(role: "user", content: "ab"), ChatMessage(role: "user", content: "")],
        [ChatMessage(role: "", content: "userab")],
        [ChatMessage(role: "assistant", content: "ab")],
        // Characters whose code points equal the framing bytes (U+00F6, U+00F9, U+00FF) encode as two other
        // bytes in UTF-8, so they cannot imitate the framing.
        [ChatMessage(role: "user", content: "a\u{FF}\u{F6}user\u{FF}\u{F9}b")],
        // Content that imitates version 1's framing of two messages (LE64(1), "user", LE64(4), no-name tag).
        [ChatMessage(role: "user", content: "a\u{1}\0\0\0\0\0\0\0user\u{4}\0\0\0\0\0\0\0\0b")],
        [ChatMessage(role: "tool", content: .text("ab"), toolCallID: "c")],
        [ChatMessage(role: "tool", content: .text("ab"), toolCallID: "")],
        [ChatMessage(role: "tool", content: .text("ab"), name: "c")],
        [ChatMessage(role: "assistant", content: .text("ab"), toolCalls: [.object(["id": .string("c")])])],
        [ChatMessage(role: "assistant", content: .text("ab"), toolCalls: [.object(["id": .string("c")]), .null])],
        [ChatMessage(role: "user", content: .parts([.text("a"), .text("b")]))],
        [ChatMessage(role: "user", content: .parts([.text("ab"), .other(.object(["type": .string("image_url")]))]))],
        [ChatMessage(role: "user", content: .parts([.other(.object(["type": .string("image_url")])), .text("ab")]))],
    ]

    /// Mutation caught: a serialization in which two different message lists (or tool sets) coincide, e.g.
    /// dropping a field, its tag or its terminator, or ignoring tools.
    @Test func chatLayoutsAllDiffer() throws {
        let serialized = Self.layouts.map { ChatSerialization.canonicalBytes(of: $0) }
        #expect(Set(serialized).count == Self.layouts.count, "distinct layouts serialize distinctly")
        let withTools = ChatSerialization.canonicalBytes(of: Self.layouts[1], tools: [.object(["type": .string("x")])])
        #expect(!serialized.contains(withTools), "tools are serialized")
        // Hash with a large block and the tail included, so every serialization yields hashes to compare.
        let hasher = try PrefixHasher(blockSize: 64, tailPolicy: .includePartial)
        let hashes = Self.layouts.map { hasher.blockHashes(ofChat: $0) }
        #expect(Set(hashes).count == Self.layouts.count, "distinct layouts hash distinctly")
    }

    /// Mutation caught: any byte of the documented format changed (a tag value, the field order, the version
    /// byte, the content rendering), or framing that does not decode from the front.
    @Test func chatSerializationFollowsTheDocumentedFormatAndDecodesFromTheFront() throws {
        for messages in Self.layouts {
            let bytes = ChatSerialization.canonicalBytes(of: messages)
            #expect(bytes == HashingReference.chatBytes(messages), "\(messages)")
            #expect(bytes.first == ChatSerialization.formatVersion)
            let decoded = try #require(HashingReference.decodeChat(bytes), "\(messages)")
            #expect(decoded.tools.isEmpty)
            #expect(decoded.messages == messages.map(HashingReference.DecodedMessage.init), "round trip of \(messages)")
        }
        #expect(ChatSerialization.formatVersion == 2)
        let bytes = ChatSerialization.canonicalBytes(of: [ChatMessage(role: "user", content: "hi", name: "bo")])
        let expected: [UInt8] =
            [0x02, 0xF6] + Array("user".utf8) + [0xFF, 0xF7] + Array("bo".utf8) + [0xFF, 0xF9]
            + Array("hi".utf8) + [0xFF]
        #expect(bytes == expected)
        let tool = JSONValue.object(["b": .number(1), "a": .array([.bool(true), .null])])
        let call = ChatMessage(
            role: "assistant",
            content: nil,
            toolCalls: [.object(["id": .string("c1")])],
            toolCallID: "t"
        )
        let full = ChatSerialization.canonicalBytes(of: [call], tools: [tool])
        let expectedFull: [UInt8] =
            [0x02, 0xF5] + Array(#"{"a":[true,null],"b":1}"#.utf8) + [0xFF, 0xF6]
            + Array("assistant".utf8) + [0xFF, 0xF8, UInt8(ascii: "t"), 0xFF, 0xF9, 0xFF, 0xFA]
            + Array(#"{"id":"c1"}"#.utf8) + [0xFF]
        #expect(full == expectedFull)
    }

    /// Messages `[user: "a", user: body]` and the single message whose content is `"a"` followed by version 1's
    /// framing of a boundary and `body`: byte-identical under version 1 except its last 8 bytes.
    static func v1ForgedPair(first: String, second: String) throws -> (honest: [ChatMessage], forged: [ChatMessage]) {
        let forgedBytes =
            Array(first.utf8) + HashingReference.le64(first.utf8.count) + Array("user".utf8)
            + HashingReference.le64(4) + [0x00] + Array(second.utf8)
        try #require(forgedBytes.allSatisfy { $0 < 0x80 }, "ASCII, so that the forged content is a valid string")
        let forgedContent = String(decoding: forgedBytes, as: UTF8.self)
        try #require(Array(forgedContent.utf8) == forgedBytes)
        return (
            [ChatMessage(role: "user", content: first), ChatMessage(role: "user", content: second)],
            [ChatMessage(role: "user", content: forgedContent)]
        )
    }

    /// Version 1 wrote each string's length after its bytes, so content could spell out a message boundary and
    /// collide with a real one in every block but the one holding the last 8 bytes. The old test built its
    /// forged content with one zero byte too many and hashed with `.includePartial`, where the differing last
    /// block made it pass. Here the forgery is exact, is shown to work against version 1 with `.dropPartial`,
    /// and to fail against version 2 in every block.
    ///
    /// Mutation caught: any framing that lets content imitate a message boundary (lengths after the bytes, a
    /// terminator or tag byte that UTF-8 text can contain, a missing terminator).
    @Test func contentCannotForgeAMessageBoundaryInAnyBlock() throws {
        let body = String(repeating: "Quarterly revenue grew in every region. ", count: 7) + "By how much?"
        let (honest, forged) = try Self.v1ForgedPair(first: "a", second: body)
        let v1Root = HashingReference.root(model: "", adapter: nil, cacheSalt: nil, version: 1)

        // Version 1: identical bytes but for the final length, so every full block collides.
        let v1Honest = HashingReference.chatBytesV1(honest)
        let v1Forged = HashingReference.chatBytesV1(forged)
        #expect(v1Honest.count == v1Forged.count)
        #expect(Array(v1Honest.dropLast(8)) == Array(v1Forged.dropLast(8)))
        #expect(Array(v1Honest.suffix(8)) != Array(v1Forged.suffix(8)))
        let v1HonestHashes = HashingReference.chain(v1Honest, chunk: 64, root: v1Root)
        #expect(v1HonestHashes.count == 5, "the last 8 bytes fall in the dropped partial block")
        #expect(v1HonestHashes == HashingReference.chain(v1Forged, chunk: 64, root: v1Root), "v1 is forgeable")

        // Version 2: the forged content diverges where the real first message ends, inside block 0.
        let hasher = try PrefixHasher(blockSize: 16)
        #expect(hasher.tailPolicy == .dropPartial)
        let honestHashes = hasher.blockHashes(ofChat: honest)
        let forgedHashes = hasher.blockHashes(ofChat: forged)
        try #require(honestHashes.count >= 4 && forgedHashes.count >= 4)
        for index in 0..<min(honestHashes.count, forgedHashes.count) {
            #expect(honestHashes[index] != forgedHashes[index], "block \(index) must differ")
        }
        // The same with .includePartial, and with the forged content placed after a shared system prompt.
        let tail = try PrefixHasher(blockSize: 16, tailPolicy: .includePartial)
        #expect(Set(tail.blockHashes(ofChat: honest)).isDisjoint(with: tail.blockHashes(ofChat: forged)))
    }

    /// Wherever the forged boundary lies, blocks are shared exactly up to the block where the real message
    /// ends and differ from that block on: a forgery never extends a shared prefix past a boundary.
    ///
    /// Mutation caught: framing that makes the forged content's bytes agree past the real boundary.
    @Test func forgedBoundariesShareNothingPastTheRealBoundary() throws {
        let hasher = try PrefixHasher(blockSize: 16)
        for firstLength in [1, 2, 40, 63, 64, 100, 127] {
            let first = String(repeating: "x", count: firstLength)
            let (honest, forged) = try Self.v1ForgedPair(first: first, second: String(repeating: "y", count: 300))
            let a = ChatSerialization.canonicalBytes(of: honest)
            let b = ChatSerialization.canonicalBytes(of: forged)
            let boundary = zip(a, b).prefix { $0 == $1 }.count
            // 0x02, 0xF6 "user" 0xFF, 0xF9, then the first content: the real message ends right after it.
            #expect(boundary == 1 + 6 + 1 + firstLength, "first \(firstLength)")
            let ha = hasher.blockHashes(ofChat: honest)
            let hb = hasher.blockHashes(ofChat: forged)
            let sharedBlocks = boundary / 64
            #expect(Array(ha.prefix(sharedBlocks)) == Array(hb.prefix(sharedBlocks)), "first \(firstLength)")
            for index in sharedBlocks..<min(ha.count, hb.count) {
                #expect(ha[index] != hb[index], "first \(firstLength), block \(index)")
            }
        }
    }

    /// Random message lists, including contents built from framing-like pieces: each serialization decodes
    /// from the front to its messages, and one serialization is a prefix of another exactly when its message
    /// list is a leading sub-list of the other's. Failures print the seed.
    ///
    /// Mutation caught: any ambiguity in the framing (as in version 1, where merging two messages' contents
    /// with forged framing left all but 8 bytes unchanged).
    @Test func serializationsArePrefixesExactlyForLeadingSubLists() throws {
        let pieces = ["", "a", "user", "\u{0}", "\u{1}", "\u{FF}", "\u{F6}", "é", "🦊", "\n", "\u{1}\0\0\0\0\0\0\0"]
        let roles = ["user", "assistant", "system", "tool", ""]
        for seed in UInt64(0)..<300 {
            var random = RandomSource(seed: seed)
            func text() -> String {
                (0..<random.next(below: 5)).map { _ in pieces[random.next(below: pieces.count)] }.joined()
            }
            func message() -> ChatMessage {
                ChatMessage(
                    role: roles[random.next(below: roles.count)],
                    content: .text(text()),
                    name: random.next(below: 4) == 0 ? text() : nil,
                    toolCallID: random.next(below: 4) == 0 ? text() : nil
                )
            }
            let list = (0..<random.next(below: 4)).map { _ in message() }
            var other = list
            switch random.next(below: 3) {
            case 0: other += (0..<(1 + random.next(below: 2))).map { _ in message() }
            case 1 where list.count >= 2:
                // Merge the last two messages, with version 1's framing of the boundary spelled out in the content.
                let last = list[list.count - 1]
                let previous = list[list.count - 2]
                let previousContent = HashingReference.contentBytes(previous.content)
                let forged =
                    previousContent + HashingReference.le64(previousContent.count) + Array(last.role.utf8)
                    + HashingReference.le64(last.role.utf8.count) + [0x00] + HashingReference.contentBytes(last.content)
                other =
                    Array(list.dropLast(2)) + [
                        ChatMessage(
                            role: previous.role,
                            content: .text(String(decoding: forged, as: UTF8.self)),
                            name: previous.name,
                            toolCallID: previous.toolCallID
                        )
                    ]
            default: other = (0..<random.next(below: 4)).map { _ in message() }
            }
            let a = ChatSerialization.canonicalBytes(of: list)
            let b = ChatSerialization.canonicalBytes(of: other)
            let decoded = HashingReference.decodeChat(a)?.messages
            #expect(decoded == list.map(HashingReference.DecodedMessage.init), "seed \(seed)")
            let isPrefix = b.starts(with: a)
            let isLeadingSubList = other.count >= list.count && Array(other.prefix(list.count)) == list
            #expect(isPrefix == isLeadingSubList, "seed \(seed)")
        }
    }

    /// Mutation caught: hashing something other than the serialization, or a tools argument not passed on.
    @Test func chatHashesAreTheTextHashesOfTheSerialization() throws {
        let hasher = try PrefixHasher(blockSize: 4)
        let messages = [
            ChatMessage(role: "system", content: String(repeating: "You are helpful. ", count: 10)),
            ChatMessage(role: "user", content: "Summarise the report.", name: "ana"),
        ]
        let tools: [JSONValue] = [.object(["type": .string("function"), "function": .object(["name": .string("f")])])]
        for toolSet in [[], tools] {
            let bytes = HashingReference.chatBytes(messages, tools: toolSet)
            let expected = HashingReference.chain(bytes, chunk: 16, root: Self.root)
            #expect(hasher.blockHashes(ofChat: messages, tools: toolSet) == expected)
            let request = hasher.routingRequest(chat: messages, tools: toolSet, sessionKey: "conv-7")
            #expect(request.blockHashes == expected)
            #expect(request.tokenCount == (bytes.count + 3) / 4)
            #expect(request.blockSize == 4)
            #expect(request.sessionKey == "conv-7")
        }
        #expect(hasher.blockHashes(ofChat: messages) == hasher.blockHashes(ofChat: messages, tools: []))
    }

    /// Mutation caught: a length or count written ahead of growing data (messages or a last message's content),
    /// or tools placed after the messages.
    @Test func chatPrefixesSurvive() throws {
        let hasher = try PrefixHasher(blockSize: 16)
        let tools: [JSONValue] = [
            .object(["type": .string("function"), "function": .object(["name": .string("lookup")])])
        ]
        let system = ChatMessage(role: "system", content: String(repeating: "Policy text. ", count: 50))
        let document = String(repeating: "Quarterly revenue grew in every region. ", count: 20)
        let detail = String(repeating: " Explain in detail.", count: 10)
        let turn1 = [system, ChatMessage(role: "user", content: document + "What grew?" + detail)]
        let call = JSONValue.object([
            "id": .string("call_9"), "type": .string("function"),
            "function": .object(["name": .string("lookup"), "arguments": .string("{\"q\":\"revenue\"}")]),
        ])
        let turn2 =
            turn1 + [
                ChatMessage(role: "assistant", content: nil, toolCalls: [call]),
                ChatMessage(role: "tool", content: .text("Up 12%."), toolCallID: "call_9"),
            ]
        let turn3 =
            turn2 + [
                ChatMessage(role: "assistant", content: "Revenue, by 12%."),
                ChatMessage(role: "user", content: "Where?"),
            ]
        for toolSet in [[], tools] {
            let h1 = hasher.blockHashes(ofChat: turn1, tools: toolSet)
            let h2 = hasher.blockHashes(ofChat: turn2, tools: toolSet)
            let h3 = hasher.blockHashes(ofChat: turn3, tools: toolSet)
            // Appending messages keeps every full block of the earlier turn.
            #expect(h1.count > 20 && h2.count > h1.count && h3.count >= h2.count)
            #expect(Array(h2.prefix(h1.count)) == h1)
            #expect(Array(h3.prefix(h2.count)) == h2)
        }
        // The same document at the start of the last message shares its blocks (no length ahead of the bytes).
        let other = [system, ChatMessage(role: "user", content: document + "Which region led?" + detail)]
        let h1 = hasher.blockHashes(ofChat: turn1)
        let h3 = hasher.blockHashes(ofChat: other)
        let sharedBytes = zip(ChatSerialization.canonicalBytes(of: turn1), ChatSerialization.canonicalBytes(of: other))
            .prefix { $0 == $1 }.count
        #expect(sharedBytes > 1 + (system.content?.plainText.utf8.count ?? 0) + document.utf8.count)
        let sharedBlocks = sharedBytes / 64
        #expect(sharedBlocks >= 20)
        #expect(Array(h1.prefix(sharedBlocks)) == Array(h3.prefix(sharedBlocks)))
        try #require(h1.count > sharedBlocks && h3.count > sharedBlocks)
        #expect(h1[sharedBlocks] != h3[sharedBlocks])
    }

    static let weatherTool = JSONValue.object([
        "type": .string("function"),
        "function": .object([
            "name": .string("get_weather"), "description": .string("Current weather for a city."),
            "parameters": .object([
                "type": .string("object"), "properties": .object(["city": .object(["type": .string("string")])]),
            ]),
        ]),
    ])
    static let searchTool = JSONValue.object([
        "type": .string("function"),
        "function": .object([
            "name": .string("search"), "description": .string("Search the web."),
            "parameters": .object(["type": .string("object")]),
        ]),
    ])

    /// Mutation caught: tools left out of the hash, placed after the messages, sorted (templates keep their
    /// order), or hashed in a form that depends on member order or spacing.
    @Test func toolsChangeEveryBlockFromTheirFirstDifference() throws {
        let hasher = try PrefixHasher(blockSize: 16)
        let messages = [
            ChatMessage(role: "system", content: String(repeating: "You are a careful agent. ", count: 20)),
            ChatMessage(role: "user", content: "What is the weather in Paris?"),
        ]
        let toolSets: [[JSONValue]] = [
            [], [Self.weatherTool], [Self.searchTool], [Self.weatherTool, Self.searchTool],
            [Self.searchTool, Self.weatherTool],
        ]
        let hashes = toolSets.map { hasher.blockHashes(ofChat: messages, tools: $0) }
        let bytes = toolSets.map { ChatSerialization.canonicalBytes(of: messages, tools: $0) }
        for i in hashes.indices {
            #expect(hashes[i].count >= 8)
            for j in hashes.indices where j != i {
                // The first difference lies in the tools (they come first), and no block from there on is shared,
                // in particular no block of the messages.
                let firstDifference = zip(bytes[i], bytes[j]).prefix { $0 == $1 }.count
                let firstMessageByte = try #require(bytes[i].firstIndex(of: 0xF6))
                #expect(firstDifference <= firstMessageByte, "tool sets \(i) and \(j)")
                let shared = firstDifference / 64
                #expect(Array(hashes[i].prefix(shared)) == Array(hashes[j].prefix(shared)))
                #expect(Set(hashes[i].dropFirst(shared)).isDisjoint(with: hashes[j]), "tool sets \(i) and \(j)")
            }
        }
        // Without tools versus with any, and in either order, nothing is shared at all.
        for (i, j) in [(0, 1), (0, 3), (1, 2), (3, 4)] {
            #expect(Set(hashes[i]).isDisjoint(with: hashes[j]), "tool sets \(i) and \(j)")
        }
        // The wire form in another member order, with spacing and `1.0` for `1`: the same hashes.
        let json = #"""
            [ { "function" : { "parameters" : { "properties" : { "city" : { "type" : "string" } }, "type" : "object" },
                               "description" : "Current weather for a city.", "name" : "get_weather" },
                "type" : "function" } ]
            """#
        let decoded = try JSONDecoder().decode([JSONValue].self, from: Data(json.utf8))
        #expect(decoded == [Self.weatherTool])
        #expect(hasher.blockHashes(ofChat: messages, tools: decoded) == hashes[1])
        let numbers = try JSONDecoder().decode([JSONValue].self, from: Data(#"[{"n": 1.0, "m": 1e0}]"#.utf8))
        let integers = try JSONDecoder().decode([JSONValue].self, from: Data(#"[{"m": 1, "n": 1}]"#.utf8))
        #expect(
            hasher.blockHashes(ofChat: messages, tools: numbers)
                == hasher.blockHashes(ofChat: messages, tools: integers)
        )
    }

    /// Mutation caught: text parts joined differently from vLLM (no separator, another separator), a single
    /// part not hashing like the string, a non-text part dropped or given a marker that text can produce or
    /// that ignores what the part holds.
    @Test func contentPartsRenderLikeTheirText() throws {
        let hasher = try PrefixHasher(blockSize: 4)
        func hashes(_ content: ChatContent?) -> [BlockHash] {
            hasher.blockHashes(ofChat: [
                ChatMessage(role: "user", content: content), ChatMessage(role: "user", content: "Thanks."),
            ])
        }
        let question = "Which of these charts shows the fastest growth?"
        #expect(hashes(.parts([.text(question)])) == hashes(.text(question)))
        #expect(hashes(.parts([.text("first"), .text("second")])) == hashes(.text("first\nsecond")))
        #expect(hashes(nil) == hashes(.text("")))
        #expect(hashes(.parts([])) == hashes(.text("")))
        #expect(hashes(.parts([.text("")])) == hashes(.text("")))

        func image(_ url: String) -> ChatContentPart {
            .other(.object(["type": .string("image_url"), "image_url": .object(["url": .string(url)])]))
        }
        let a = hashes(.parts([.text(question), image("https://example.com/a.png")]))
        let a2 = hashes(.parts([.text(question), image("https://example.com/a.png")]))
        let b = hashes(.parts([.text(question), image("https://example.com/b.png")]))
        let none = hashes(.parts([.text(question)]))
        #expect(a == a2, "the marker is stable")
        #expect(a != b, "different images, different markers")
        #expect(a != none, "an image is not dropped")
        // The marker's digits as text do not imitate the marker: it opens with 0xFE, which text never has.
        let marker = HashingReference.contentBytes(.parts([image("https://example.com/a.png")]))
        #expect(marker.count == 17 && marker[0] == 0xFE)
        let digits = String(decoding: marker.dropFirst(), as: UTF8.self)
        #expect(hashes(.parts([.text(question), .text(digits)])) != a)
        #expect(hashes(.text(question + "\n" + digits)) != a)
        // Text, then image, then text: the order is kept.
        let ordered = hashes(.parts([.text("x"), image("u"), .text("y")]))
        let swapped = hashes(.parts([.text("y"), image("u"), .text("x")]))
        #expect(ordered != swapped)
        #expect(ChatContent.parts([.text("x"), image("u"), .text("y")]).plainText == "x\ny")
    }
}
