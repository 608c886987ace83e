@testable import PrefixRouter
import Testing

/// ``HashSchema``: the libxxhash check.
@Suite struct HashingSchemaTests {
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
