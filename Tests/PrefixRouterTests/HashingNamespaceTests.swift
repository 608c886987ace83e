@_spi(Internals) import PrefixRouter
import Testing

/// ``HashNamespace``: the documented root encoding, and isolation of different models, adapters and salts.
@Suite struct HashingNamespaceTests {
    static let namespaces: [HashNamespace] = [
        HashNamespace(),
        HashNamespace(model: "llama-3.1-8b"),
        HashNamespace(model: "llama-3.1-70b"),
        HashNamespace(model: "llama-3.1-8b", adapter: "sql-lora"),
        HashNamespace(model: "llama-3.1-8b", adapter: "chat-lora"),
        HashNamespace(model: "llama-3.1-8b", adapter: ""),
        HashNamespace(model: "llama-3.1-8b", cacheSalt: "tenant-a"),
        HashNamespace(model: "llama-3.1-8b", cacheSalt: "tenant-b"),
        HashNamespace(model: "llama-3.1-8b", cacheSalt: ""),
        HashNamespace(model: "llama-3.1-8b", adapter: "sql-lora", cacheSalt: "tenant-a"),
        HashNamespace(model: "llama-3.1-8b", adapter: "tenant-a", cacheSalt: "sql-lora"),
        // Field boundaries cannot be shifted: these concatenate to the same characters.
        HashNamespace(model: "ab", adapter: "c"),
        HashNamespace(model: "a", adapter: "bc"),
        HashNamespace(model: "abc"),
        HashNamespace(model: "a", adapter: nil, cacheSalt: "bc"),
    ]

    @Test func rootFollowsTheDocumentedEncoding() {
        for namespace in Self.namespaces {
            let expected = HashingReference.root(
                model: namespace.model,
                adapter: namespace.adapter,
                cacheSalt: namespace.cacheSalt
            )
            #expect(namespace.root == expected, "\(namespace)")
        }
        #expect(HashNamespace.rootSeed == 0x5052_4546_4958_4E53)
    }

    @Test func differentNamespacesGiveDifferentRootsAndHashes() throws {
        let tokens = HashingReference.randomTokens(count: 64, seed: 70)
        let roots = Self.namespaces.map(\.root)
        #expect(Set(roots).count == Self.namespaces.count, "every namespace has its own root")
        var firstHashes: Set<BlockHash> = []
        for namespace in Self.namespaces {
            let hashes = try PrefixHasher(namespace: namespace).blockHashes(of: tokens)
            #expect(hashes.count == 4)
            firstHashes.insert(hashes[0])
            let text = try PrefixHasher(namespace: namespace).blockHashes(ofText: String(repeating: "x", count: 64))
            #expect(text.count == 1)
            firstHashes.insert(text[0])
        }
        #expect(firstHashes.count == 2 * Self.namespaces.count, "no two namespaces share a block hash")
    }

    @Test func equalNamespacesGiveEqualHashes() throws {
        let tokens = HashingReference.randomTokens(count: 64, seed: 71)
        let a = HashNamespace(model: "m", adapter: "lora", cacheSalt: "salt")
        var b = HashNamespace(model: "x")
        b.model = "m"
        b.adapter = "lora"
        b.cacheSalt = "salt"
        #expect(a == b)
        #expect(a.root == b.root)
        let hashesA = try PrefixHasher(namespace: a).blockHashes(of: tokens)
        #expect(try hashesA == PrefixHasher(namespace: b).blockHashes(of: tokens))
        #expect(try PrefixHasher().namespace == HashNamespace(model: "", adapter: nil, cacheSalt: nil))
    }
}
