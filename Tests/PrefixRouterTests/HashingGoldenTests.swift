@_spi(Internals) import PrefixRouter
import Testing

/// Golden block hashes. Gateways in different processes, versions and platforms must agree on these, so the
/// literal values below are pinned deliberately: they are GOLDEN and must NEVER change. If one of these tests
/// fails, the hashing format changed; that breaks every deployed gateway's affinity and is not a test to
/// update. Each case is also recomputed independently from the documented format (``HashingReference``), and the
/// literals were cross-checked once with a separate Python script calling libxxhash through ctypes.
@Suite struct HashingGoldenTests {
    /// Tokens 0, 1, 2, … 47 (three blocks of 16).
    static let counting: [UInt32] = (0..<48).map { UInt32($0) }
    /// Large ids, so that every byte of the little-endian encoding matters.
    static let wide: [UInt32] = (0..<32).map { 0xDEAD_BEEF &+ UInt32($0) &* 0x0101_0101 }
    static let namespace = HashNamespace(
        model: "meta-llama/Llama-3.1-8B-Instruct", adapter: "sql-lora", cacheSalt: "tenant-42")
    static let chat = [
        ChatMessage(role: "system", content: "You are a helpful assistant. Answer concisely and cite sources."),
        ChatMessage(role: "user", content: "What is prefix caching in vLLM, and why does routing matter?", name: "ana"),
    ]

    static let defaultRoot = HashingReference.root(model: "", adapter: nil, cacheSalt: nil)

    @Test func roots() {
        #expect(HashNamespace().root == Self.defaultRoot)
        #expect(HashNamespace().root == 0xFCC8_0D10_A450_3882)  // GOLDEN
        let namespaceRoot = HashingReference.root(
            model: "meta-llama/Llama-3.1-8B-Instruct", adapter: "sql-lora", cacheSalt: "tenant-42")
        #expect(Self.namespace.root == namespaceRoot)
        #expect(Self.namespace.root == 0x7E6C_BC0D_6019_8712)  // GOLDEN
    }

    @Test func countingTokensDefaultNamespace() throws {
        let hashes = try PrefixHasher().blockHashes(of: Self.counting)
        let bytes = HashingReference.leBytes(Self.counting)
        #expect(hashes == HashingReference.chain(bytes, chunk: 64, root: Self.defaultRoot))
        // GOLDEN: never change.
        #expect(hashes.map(\.rawValue) == [
            0xCC2A_FDF4_B82C_4994,
            0xB888_575B_C439_4FC1,
            0x9843_4464_E8BD_E714,
        ])
    }

    @Test func wideTokensNamespacedBlockSize8WithTail() throws {
        let tokens = Array(Self.wide.prefix(29))
        let hasher = try PrefixHasher(blockSize: 8, namespace: Self.namespace, tailPolicy: .includePartial)
        let hashes = hasher.blockHashes(of: tokens)
        #expect(hashes == HashingReference.chain(
            HashingReference.leBytes(tokens), chunk: 32, root: Self.namespace.root, includeTail: true))
        // The staging path (big-endian hosts, non-contiguous collections) gives the same golden values.
        #expect(hasher.blockHashes(of: tokens.lazy.map { $0 }) == hashes)
        // GOLDEN: never change.
        #expect(hashes.map(\.rawValue) == [
            0x9428_ABC6_6951_3E99,
            0xC53D_9555_85E0_FD24,
            0x705B_CDB6_9F64_04BE,
            0x552E_5EE4_59AE_6150,
        ])
    }

    @Test func chat() throws {
        let hashes = try PrefixHasher(blockSize: 4).blockHashes(ofChat: Self.chat)
        let bytes = HashingReference.chatBytes(Self.chat)
        #expect(hashes == HashingReference.chain(bytes, chunk: 16, root: Self.defaultRoot))
        // GOLDEN: never change.
        #expect(hashes.map(\.rawValue) == [
            0x42C5_BD3B_6816_6C4D,
            0xA1F2_D702_1A15_76A0,
            0xEB8D_AFE5_31E7_94D3,
            0xBAFE_B1B2_FB8E_4140,
            0x0531_C92F_EA96_F6F2,
            0x4478_66EB_DA40_29E6,
            0xA44F_02D0_20E7_65FF,
            0x244F_21F5_7DBA_4756,
            0xC115_A164_A21D_B315,
            0xF12D_1383_7615_97B2,
            0x3900_4920_06C8_893B,
        ])
    }

    @Test func text() throws {
        let text = "The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs."
        let hashes = try PrefixHasher(blockSize: 4, namespace: Self.namespace).blockHashes(ofText: text)
        #expect(hashes == HashingReference.chain(Array(text.utf8), chunk: 16, root: Self.namespace.root))
        // GOLDEN: never change.
        #expect(hashes.map(\.rawValue) == [
            0x1291_CADA_40D8_10FE,
            0xDA2F_3D4E_3571_9849,
            0x3F9F_C02F_D463_74F7,
            0x4A95_E36B_360B_E086,
            0xC0F5_22E0_9825_5672,
        ])
    }
}
