import Foundation
@_spi(Internals) import PrefixRouter
import Testing

/// Tokenizer-free text hashing and the canonical chat serialization.
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
                    Array(text.utf8), chunk: 4 * blockSize, root: Self.root,
                    includeTail: policy == .includePartial)
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
        // Content that imitates the framing of two messages.
        [ChatMessage(role: "user", content: "a\u{1}\0\0\0\0\0\0\0\0user\u{4}\0\0\0\0\0\0\0\0b")],
    ]

    @Test func chatLayoutsAllDiffer() throws {
        let serialized = Self.layouts.map(ChatSerialization.canonicalBytes(of:))
        #expect(Set(serialized).count == Self.layouts.count, "distinct layouts serialize distinctly")
        // Hash with a large block and the tail included, so every serialization yields hashes to compare.
        let hasher = try PrefixHasher(blockSize: 64, tailPolicy: .includePartial)
        let hashes = Self.layouts.map { hasher.blockHashes(ofChat: $0) }
        #expect(Set(hashes).count == Self.layouts.count, "distinct layouts hash distinctly")
    }

    @Test func chatSerializationFollowsTheDocumentedFormatAndDecodes() {
        for messages in Self.layouts {
            let bytes = ChatSerialization.canonicalBytes(of: messages)
            #expect(bytes == HashingReference.chatBytes(messages), "\(messages)")
            #expect(bytes.first == ChatSerialization.formatVersion)
            #expect(HashingReference.decodeChat(bytes) == messages, "round trip of \(messages)")
        }
        let bytes = ChatSerialization.canonicalBytes(of: [ChatMessage(role: "user", content: "hi", name: "bo")])
        let expected: [UInt8] = [0x01] + Array("user".utf8) + [4, 0, 0, 0, 0, 0, 0, 0]
            + Array("bo".utf8) + [2, 0, 0, 0, 0, 0, 0, 0, 0x01] + Array("hi".utf8) + [2, 0, 0, 0, 0, 0, 0, 0]
        #expect(bytes == expected)
    }

    @Test func chatHashesAreTheTextHashesOfTheSerialization() throws {
        let hasher = try PrefixHasher(blockSize: 4)
        let messages = [
            ChatMessage(role: "system", content: String(repeating: "You are helpful. ", count: 10)),
            ChatMessage(role: "user", content: "Summarise the report.", name: "ana"),
        ]
        let expected = HashingReference.chain(HashingReference.chatBytes(messages), chunk: 16, root: Self.root)
        #expect(hasher.blockHashes(ofChat: messages) == expected)
        let request = hasher.routingRequest(chat: messages, sessionKey: "conv-7")
        #expect(request.blockHashes == expected)
        #expect(request.tokenCount == (HashingReference.chatBytes(messages).count + 3) / 4)
        #expect(request.blockSize == 4)
        #expect(request.sessionKey == "conv-7")
    }

    @Test func chatPrefixesSurvive() throws {
        let hasher = try PrefixHasher(blockSize: 16)
        let system = ChatMessage(role: "system", content: String(repeating: "Policy text. ", count: 50))
        let document = String(repeating: "Quarterly revenue grew in every region. ", count: 20)
        let detail = String(repeating: " Explain in detail.", count: 10)
        let turn1 = [system, ChatMessage(role: "user", content: document + "What grew?" + detail)]
        let turn2 = turn1 + [
            ChatMessage(role: "assistant", content: "Revenue."), ChatMessage(role: "user", content: "By how much?"),
        ]
        let other = [system, ChatMessage(role: "user", content: document + "Which region led?" + detail)]
        let h1 = hasher.blockHashes(ofChat: turn1)
        let h2 = hasher.blockHashes(ofChat: turn2)
        let h3 = hasher.blockHashes(ofChat: other)
        // Appending messages keeps every full block of the earlier turn.
        #expect(Array(h2.prefix(h1.count)) == h1)
        // The same document at the start of the last message shares its blocks (lengths follow the bytes).
        let sharedBytes = zip(ChatSerialization.canonicalBytes(of: turn1), ChatSerialization.canonicalBytes(of: other))
            .prefix { $0 == $1 }.count
        #expect(sharedBytes > 1 + system.content.utf8.count + document.utf8.count)
        let sharedBlocks = sharedBytes / 64
        #expect(Array(h1.prefix(sharedBlocks)) == Array(h3.prefix(sharedBlocks)))
        try #require(h1.count > sharedBlocks && h3.count > sharedBlocks)
        #expect(h1[sharedBlocks] != h3[sharedBlocks])
    }

    @Test func chatMessageCodableUsesTheWireKeys() throws {
        let json = #"[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi","name":"ana"}]"#
        let messages = try JSONDecoder().decode([ChatMessage].self, from: Data(json.utf8))
        let expected = [
            ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "Hi", name: "ana"),
        ]
        #expect(messages == expected)
    }
}
