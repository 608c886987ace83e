@_spi(Internals) import PrefixRouter
import Testing

/// Chaining, tail policy, entry-point equivalence and input validation of ``PrefixHasher`` on token ids.
@Suite struct HashingPrefixHasherTests {
    @Test func matchesTheDocumentedChain() throws {
        for (blockSize, count, seed) in [(16, 100, 1), (1, 7, 2), (5, 23, 3), (64, 640, 4)] as [(Int, Int, UInt64)] {
            let tokens = HashingReference.randomTokens(count: count, seed: seed)
            let hasher = try PrefixHasher(blockSize: blockSize)
            let root = HashingReference.root(model: "", adapter: nil, cacheSalt: nil)
            let expected = HashingReference.chain(HashingReference.leBytes(tokens), chunk: 4 * blockSize, root: root)
            #expect(hasher.blockHashes(of: tokens) == expected, "blockSize \(blockSize), seed \(seed)")
            #expect(expected.count == count / blockSize)
        }
    }

    @Test func equalPrefixesGiveEqualLeadingHashes() throws {
        let hasher = try PrefixHasher(blockSize: 16)
        let shared = HashingReference.randomTokens(count: 16 * 5 + 3, seed: 10)
        let a = hasher.blockHashes(of: shared + HashingReference.randomTokens(count: 40, seed: 11))
        let b = hasher.blockHashes(of: shared + HashingReference.randomTokens(count: 90, seed: 12))
        #expect(Array(a.prefix(5)) == Array(b.prefix(5)))
        #expect(a[5] != b[5], "block 5 mixes shared and different tokens")
        #expect(Set(a).count == a.count, "hashes within one prompt are distinct")
    }

    @Test(arguments: [0, 1, 4, 9])
    func changingBlockKChangesHashesKAndLaterOnly(k: Int) throws {
        let blockSize = 8
        let hasher = try PrefixHasher(blockSize: blockSize)
        let tokens = HashingReference.randomTokens(count: blockSize * 10, seed: 20)
        let original = hasher.blockHashes(of: tokens)
        for offset in [0, blockSize / 2, blockSize - 1] {
            var changed = tokens
            changed[k * blockSize + offset] ^= 1
            let hashes = hasher.blockHashes(of: changed)
            #expect(hashes.count == original.count)
            #expect(Array(hashes[..<k]) == Array(original[..<k]), "k \(k), offset \(offset): earlier blocks kept")
            for index in k..<original.count {
                #expect(hashes[index] != original[index], "k \(k), offset \(offset): block \(index) must change")
            }
        }
    }

    @Test func tailPolicy() throws {
        let tokens = HashingReference.randomTokens(count: 16 * 3 + 5, seed: 30)
        let drop = try PrefixHasher(blockSize: 16)
        let include = try PrefixHasher(blockSize: 16, tailPolicy: .includePartial)
        #expect(drop.tailPolicy == .dropPartial, "dropPartial is the default")
        let full = drop.blockHashes(of: tokens)
        let all = include.blockHashes(of: tokens)
        #expect(full.count == 3)
        #expect(all.count == 4)
        #expect(Array(all.prefix(3)) == full, "the tail policy changes only the tail")
        let root = HashingReference.root(model: "", adapter: nil, cacheSalt: nil)
        let tailBytes = HashingReference.leBytes(Array(tokens[48...]))
        #expect(all[3] == BlockHash(XXH3Hash.hash(tailBytes, seed: full[2].rawValue)), "tail hashed over its 5 tokens")
        let bytes = HashingReference.leBytes(tokens)
        #expect(all == HashingReference.chain(bytes, chunk: 64, root: root, includeTail: true))
        // An exact multiple of the block size has no tail: both policies agree.
        let exact = Array(tokens[..<48])
        #expect(include.blockHashes(of: exact) == drop.blockHashes(of: exact))
        // Shorter than one block: nothing, or one tail hash.
        #expect(drop.blockHashes(of: Array(tokens[..<15])).isEmpty)
        #expect(include.blockHashes(of: Array(tokens[..<15])).count == 1)
        #expect(drop.blockHashes(of: [UInt32]()).isEmpty)
        #expect(include.blockHashes(of: [UInt32]()).isEmpty)
    }

    @Test func blockCount() throws {
        let drop = try PrefixHasher(blockSize: 16)
        let include = try PrefixHasher(blockSize: 16, tailPolicy: .includePartial)
        let cases = [(-1, 0, 0), (0, 0, 0), (1, 0, 1), (15, 0, 1), (16, 1, 1), (17, 1, 2), (48, 3, 3)]
        for (count, dropped, included) in cases {
            #expect(drop.blockCount(forTokenCount: count) == dropped, "\(count) tokens")
            #expect(include.blockCount(forTokenCount: count) == included, "\(count) tokens")
        }
    }

    @Test(arguments: [PrefixHasher.TailPolicy.dropPartial, .includePartial])
    func callerBufferEqualsArray(policy: PrefixHasher.TailPolicy) throws {
        let hasher = try PrefixHasher(blockSize: 4, tailPolicy: policy)
        let tokens = HashingReference.randomTokens(count: 4 * 6 + 2, seed: 40)
        let expected = hasher.blockHashes(of: tokens)
        for capacity in [0, 1, 3, expected.count, expected.count + 5] {
            var buffer = [BlockHash](repeating: BlockHash(0xDEAD), count: capacity)
            let written = tokens.withUnsafeBufferPointer { tokens in
                buffer.withUnsafeMutableBufferPointer { hasher.hashBlocks(tokens, into: $0) }
            }
            #expect(written == min(capacity, expected.count), "capacity \(capacity)")
            #expect(Array(buffer[..<written]) == Array(expected[..<written]), "capacity \(capacity)")
            #expect(buffer[written...].allSatisfy { $0 == BlockHash(0xDEAD) }, "nothing written past the count")
        }
        let viaPointer = tokens.withUnsafeBufferPointer { hasher.blockHashes(of: $0) }
        #expect(viaPointer == expected)
    }

    @Test(arguments: [PrefixHasher.TailPolicy.dropPartial, .includePartial])
    func collectionsEqualArray(policy: PrefixHasher.TailPolicy) throws {
        let cases: [(Int, Int, UInt64)] = [(16, 16 * 7 + 9, 50), (3, 31, 51), (5, 5, 52), (7, 0, 53)]
        for (blockSize, count, seed) in cases {
            let hasher = try PrefixHasher(blockSize: blockSize, tailPolicy: policy)
            let tokens = HashingReference.randomTokens(count: count, seed: seed)
            let expected = hasher.blockHashes(of: tokens)
            // Non-contiguous: streamed through the staging buffer (the path big-endian hosts take).
            let mapped = tokens.lazy.map { $0 }
            let contiguous = mapped.withContiguousStorageIfAvailable { _ in true }
            #expect(contiguous == nil, "the test needs a non-contiguous collection")
            #expect(hasher.blockHashes(of: mapped) == expected, "lazy map, blockSize \(blockSize), seed \(seed)")
            #expect(hasher.blockHashes(of: AnyCollection(tokens)) == expected, "AnyCollection")
            // Contiguous: slices and ContiguousArray are hashed in place.
            #expect(hasher.blockHashes(of: tokens[...]) == expected, "ArraySlice")
            #expect(hasher.blockHashes(of: ContiguousArray(tokens)) == expected, "ContiguousArray")
            // JSON-decoded ids.
            #expect(try hasher.blockHashes(of: tokens.map { Int($0) }) == expected, "[Int]")
        }
    }

    @Test func intTokensOutOfRangeThrowNamingTheIndex() throws {
        let hasher = try PrefixHasher(blockSize: 2)
        for (tokens, index) in [([1, 2, -3, 4], 2), ([Int(UInt32.max) + 1], 0), ([0, Int(UInt32.max), Int.min], 2)] {
            let error = #expect(throws: PrefixRouterError.self) { try hasher.blockHashes(of: tokens) }
            #expect(error?.code == .invalidInput)
            #expect(error?.message.contains("tokens[\(index)]") == true, "\(String(describing: error))")
        }
        #expect(try hasher.blockHashes(of: [0, Int(UInt32.max)]).count == 1, "the bounds are valid ids")
    }

    @Test func blockSizeOutOfRangeThrows() throws {
        for blockSize in [0, -1, 65_537, Int.max] {
            let error = #expect(throws: PrefixRouterError.self) { try PrefixHasher(blockSize: blockSize) }
            #expect(error?.code == .invalidBlockSize, "blockSize \(blockSize)")
            #expect(error?.message.contains("blockSize") == true)
        }
        #expect(try PrefixHasher(blockSize: 1).blockSize == 1)
        #expect(try PrefixHasher(blockSize: 65_536).blockSize == 65_536)
        #expect(try PrefixHasher().blockSize == 16, "vLLM's default")
    }

    @Test func routingRequestForTokens() throws {
        let hasher = try PrefixHasher(blockSize: 16)
        let tokens = HashingReference.randomTokens(count: 100, seed: 60)
        let request = hasher.routingRequest(tokens: tokens, sessionKey: "s-1")
        #expect(request.blockHashes == hasher.blockHashes(of: tokens))
        #expect(request.blockSize == 16)
        #expect(request.tokenCount == 100)
        #expect(request.sessionKey == "s-1")
    }
}
