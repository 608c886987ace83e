@testable import PrefixRouter
import Testing

/// ``HashSchema``: the version carried by every root and chat serialization, and the libxxhash check.
@Suite struct HashingSchemaTests {
    /// Mutation caught: the version not bumped, or not written into the root or the chat serialization (then
    /// keys of two versions could coincide).
    @Test func versionIsInTheRootAndTheChatBytes() throws {
        #expect(HashSchema.version == 2)
        #expect(ChatSerialization.formatVersion == HashSchema.version)
        #expect(ChatSerialization.canonicalBytes(of: []).first == 2)
        let namespaces = [HashNamespace(), HashNamespace(model: "m", adapter: "a", cacheSalt: "s")]
        for namespace in namespaces {
            let v2 = HashingReference.root(
                model: namespace.model, adapter: namespace.adapter, cacheSalt: namespace.cacheSalt, version: 2)
            let v1 = HashingReference.root(
                model: namespace.model, adapter: namespace.adapter, cacheSalt: namespace.cacheSalt, version: 1)
            #expect(namespace.root == v2)
            #expect(namespace.root != v1, "version 2 roots differ from version 1 roots")
        }
        // Version 1's pinned default root, from the previous golden tests: the reference still reproduces it.
        #expect(HashingReference.root(model: "", adapter: nil, cacheSalt: nil, version: 1) == 0xFCC8_0D10_A450_3882)
    }

    /// Mutation caught: the runtime check removed, inverted or run against the header's version instead of
    /// the loaded library's.
    @Test func theLoadedLibraryPasses() throws {
        try HashSchema.validateLibrary()
        #expect(HashSchema.xxhashVersionNumber >= HashSchema.minimumXXHashVersionNumber)
        #expect(HashSchema.minimumXXHashVersionNumber == 800)
        #expect(HashSchema.loadedLibraryProblem == nil)
        _ = try PrefixHasher()
    }

    /// Mutation caught: an off-by-one on the version bound (0.8.0 itself must pass, 0.7.99 must not), a
    /// missing known-answer check, or an error that does not say what was found and what is needed.
    @Test func oldOrWrongLibrariesAreRefusedWithAClearError() throws {
        #expect(HashSchema.libraryProblem(versionNumber: 800, abcHash: 0x78AF_5F94_892F_3950) == nil)
        #expect(HashSchema.libraryProblem(versionNumber: 10_203, abcHash: 0x78AF_5F94_892F_3950) == nil)

        let old = try #require(HashSchema.libraryProblem(versionNumber: 703, abcHash: 0x78AF_5F94_892F_3950))
        #expect(old.code == .invalidParameter)
        #expect(old.message.contains("libxxhash"))
        #expect(old.message.contains("0.7.3"), "names the version found: \(old.message)")
        #expect(old.message.contains("0.8.0"), "names the version needed: \(old.message)")
        #expect(HashSchema.libraryProblem(versionNumber: 799, abcHash: 0x78AF_5F94_892F_3950) != nil)

        let wrong = try #require(HashSchema.libraryProblem(versionNumber: 801, abcHash: 0x1234))
        #expect(wrong.code == .invalidParameter)
        #expect(wrong.message.contains("libxxhash"))
        #expect(wrong.message.contains("0.8.1"))
        #expect(wrong.message.contains("0x1234"))
    }
}
