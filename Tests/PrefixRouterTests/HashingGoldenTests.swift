import Foundation
@_spi(Internals) import PrefixRouter
import Testing

/// Golden block hashes of hashing schema version 2. Gateways in different processes, releases and platforms
/// must agree on these, so the literal values below are pinned deliberately: they are GOLDEN and must NEVER
/// change within schema version 2. If one of these tests fails, the hashing format changed; that breaks every
/// deployed gateway's affinity and is not a test to update: a deliberate change is a new schema version
/// (``HashSchema/version``) with new vectors. Each case is also recomputed independently from the documented
/// format (``HashingReference``), and the literals were computed separately by a Python script calling
/// libxxhash 0.8.1 through ctypes (that script reproduces the version-1 default root, 0x7506_269A_02A6_0438,
/// when given version byte 1).
@Suite struct HashingGoldenTests {
    /// Tokens 0, 1, 2, … 47 (three blocks of 16).
    static let counting: [UInt32] = (0..<48).map { UInt32($0) }
    /// Large ids, so that every byte of the little-endian encoding matters.
    static let wide: [UInt32] = (0..<32).map { 0xDEAD_BEEF &+ UInt32($0) &* 0x0101_0101 }
    static let namespace = HashNamespace(
        model: "meta-llama/Llama-3.1-8B-Instruct",
        adapter: "sql-lora",
        cacheSalt: "tenant-42"
    )
    static let chat = [
        ChatMessage(role: "system", content: "You are a helpful assistant. Answer concisely and cite sources."),
        ChatMessage(role: "user", content: "What is prefix caching in vLLM, and why does routing matter?", name: "ana"),
    ]

    static let defaultRoot = HashingReference.root(model: "", adapter: nil, cacheSalt: nil)

    @Test func roots() {
        #expect(HashNamespace().root == Self.defaultRoot)
        #expect(HashNamespace().root == 0x7506_269A_02A6_0438)  // GOLDEN
        let namespaceRoot = HashingReference.root(
            model: "meta-llama/Llama-3.1-8B-Instruct",
            adapter: "sql-lora",
            cacheSalt: "tenant-42"
        )
        #expect(Self.namespace.root == namespaceRoot)
        #expect(Self.namespace.root == 0xA3DD_7489_295C_7601)  // GOLDEN
    }

    @Test func countingTokensDefaultNamespace() throws {
        let hashes = try PrefixHasher().blockHashes(of: Self.counting)
        let bytes = HashingReference.leBytes(Self.counting)
        #expect(hashes == HashingReference.chain(bytes, chunk: 64, root: Self.defaultRoot))
        // GOLDEN: never change.
        #expect(
            hashes.map(\.rawValue) == [
                0x78E7_2D5A_9F07_0DE4,
                0x119E_432E_A360_96AA,
                0x59C6_C7C7_F9A5_D382,
            ]
        )
    }

    @Test func wideTokensNamespacedBlockSize8WithTail() throws {
        let tokens = Array(Self.wide.prefix(29))
        let hasher = try PrefixHasher(blockSize: 8, namespace: Self.namespace, tailPolicy: .includePartial)
        let hashes = hasher.blockHashes(of: tokens)
        #expect(
            hashes
                == HashingReference.chain(
                    HashingReference.leBytes(tokens),
                    chunk: 32,
                    root: Self.namespace.root,
                    includeTail: true
                )
        )
        // The staging path (big-endian hosts, non-contiguous collections) gives the same golden values.
        #expect(hasher.blockHashes(of: tokens.lazy.map { $0 }) == hashes)
        // GOLDEN: never change.
        #expect(
            hashes.map(\.rawValue) == [
                0xC7D9_D37C_AEFC_6F6D,
                0x592D_A7B2_77E1_EE74,
                0x6D9C_B294_99A7_D604,
                0x0486_B8AE_E92C_1AB4,
            ]
        )
    }

    @Test func chat() throws {
        let hashes = try PrefixHasher(blockSize: 4).blockHashes(ofChat: Self.chat)
        let bytes = HashingReference.chatBytes(Self.chat)
        #expect(hashes == HashingReference.chain(bytes, chunk: 16, root: Self.defaultRoot))
        // GOLDEN: never change.
        #expect(
            hashes.map(\.rawValue) == [
                0x6778_2DBB_8BF6_D5C0,
                0x36C7_88DB_BC47_6EE2,
                0x2006_6AAC_8BDE_4C85,
                0x7519_892C_2850_D538,
                0x91A7_3C35_3401_55A9,
                0x3481_0DC7_B8EA_AE8B,
                0x4533_F8DB_9284_04BA,
                0x4CC8_9A8A_1218_0EBF,
                0x1236_2DE1_301F_B440,
            ]
        )
    }

    @Test func text() throws {
        let text = "The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs."
        let hashes = try PrefixHasher(blockSize: 4, namespace: Self.namespace).blockHashes(ofText: text)
        #expect(hashes == HashingReference.chain(Array(text.utf8), chunk: 16, root: Self.namespace.root))
        // GOLDEN: never change.
        #expect(
            hashes.map(\.rawValue) == [
                0x09C4_7CC9_1F5A_DEC6,
                0xAB80_C49D_2849_F5A0,
                0x7EE4_9CE0_66A3_91DB,
                0x9597_E945_090B_E295,
                0x1D0D_405E_B121_DCC3,
            ]
        )
    }

    /// A request with a tool definition, an image part, an assistant tool call and a tool answer, decoded from
    /// the OpenAI wire form (member order and spacing differ from the canonical form on purpose).
    static let richBody = #"""
        {"model": "llama-3.1-8b",
         "tools": [{"type": "function", "function": {"name": "get_weather",
                    "parameters": {"type": "object", "required": ["city"], "properties": {"city": {"type": "string"}}},
                    "description": "Current weather for a city."}}],
         "messages": [
           {"role": "system", "content": "Use tools when needed."},
           {"role": "user", "content": [{"type": "text", "text": "Weather here?"},
                                        {"type": "image_url", "image_url": {"url": "https://example.com/sky.png", "detail": "low"}}]},
           {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
                                  "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
           {"role": "tool", "tool_call_id": "call_1", "content": "18 °C, clear"}]}
        """#

    @Test func chatWithToolsPartsAndToolCalls() throws {
        let body = try JSONDecoder().decode(OpenAIChatBody.self, from: Data(Self.richBody.utf8))
        let tools = body.tools ?? []
        let namespace = HashNamespace(model: "llama-3.1-8b")
        let hasher = try PrefixHasher(blockSize: 4, namespace: namespace)
        let hashes = hasher.blockHashes(ofChat: body.messages, tools: tools)
        let bytes = HashingReference.chatBytes(body.messages, tools: tools)
        #expect(bytes.count == 408)
        #expect(ChatSerialization.canonicalBytes(of: body.messages, tools: tools) == bytes)
        #expect(hashes == HashingReference.chain(bytes, chunk: 16, root: namespace.root))
        // GOLDEN: never change.
        #expect(
            hashes.map(\.rawValue) == [
                0xDBDA_586C_A4FD_8E25, 0xBF1D_FF69_E1FE_452B, 0x02A8_12A9_33E2_1502, 0xFD22_8B75_8A50_F3D6,
                0xE928_71D9_5EEB_C4EB, 0x2F27_B324_EED6_BECF, 0xE482_AC9F_A97F_CE77, 0x959F_9B80_4F68_CD91,
                0x0432_C0E5_9641_1992, 0xD81D_65E1_241A_151D, 0xB491_30B0_E262_7DE2, 0x7376_C07F_BB0D_A9FD,
                0xEA81_12B5_FF91_E91F, 0x6870_369B_7351_5785, 0xCD97_B7FC_55E0_CA78, 0x1EC4_F734_9763_7D1F,
                0xE18D_05D9_96F6_C7EA, 0x9426_35CF_ADE7_D9C2, 0x4D46_98C3_E9D8_17FE, 0xB9A8_BDBE_75D5_A4C4,
                0x0E87_D8DA_44A4_68D3, 0xF1CF_E204_DB51_F445, 0x1125_3A1F_061C_44BC, 0xA6BB_BB4B_E386_7DEF,
                0x2CB4_532A_E713_3E0A,
            ]
        )
    }

    @Test func ringPositions() {
        let keys: [UInt64] = [0, 1, 42, .max, 0x1234_5678_9ABC_DEF0]
        #expect(keys.map(HashSchema.ringPosition(forKey:)) == keys.map(HashingReference.ringPosition))
        // GOLDEN: never change.
        #expect(
            keys.map(HashSchema.ringPosition(forKey:)) == [
                0x37F4_166B_E72E_16FD, 0xC0F6_7B4B_7EDE_7B8A, 0xB03D_7200_423B_3C83, 0x3634_A420_7CFD_2C48,
                0x212F_3E2A_801E_0D0E,
            ]
        )
    }
}

/// The parts of an OpenAI chat-completions body that a gateway hashes; other members are ignored.
struct OpenAIChatBody: Decodable {
    var messages: [ChatMessage]
    var tools: [JSONValue]?
}
