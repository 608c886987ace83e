import Testing

@_spi(Internals) @testable import PrefixRouter

/// ``HashSchema``: the version carried by every root and chat serialization, the libxxhash check, and the
/// ring key mixing of ``PrefixAffinity``.
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
                model: namespace.model,
                adapter: namespace.adapter,
                cacheSalt: namespace.cacheSalt,
                version: 2
            )
            let v1 = HashingReference.root(
                model: namespace.model,
                adapter: namespace.adapter,
                cacheSalt: namespace.cacheSalt,
                version: 1
            )
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
        #expect(old.code == .incompatibleLibrary)
        #expect(old.message.contains("libxxhash"))
        #expect(old.message.contains("0.7.3"), "names the version found: \(old.message)")
        #expect(old.message.contains("0.8.0"), "names the version needed: \(old.message)")
        #expect(HashSchema.libraryProblem(versionNumber: 799, abcHash: 0x78AF_5F94_892F_3950) != nil)

        let wrong = try #require(HashSchema.libraryProblem(versionNumber: 801, abcHash: 0x1234))
        #expect(wrong.code == .incompatibleLibrary)
        #expect(wrong.message.contains("libxxhash"))
        #expect(wrong.message.contains("0.8.1"))
        #expect(wrong.message.contains("0x1234"))
    }

    /// Mutation caught: a mixing function other than the documented one (another seed, big-endian bytes, no
    /// mixing at all).
    @Test func ringPositionFollowsTheDocumentedMixing() throws {
        #expect(HashSchema.ringKeySeed == 0x5052_4546_4958_524B)
        var random = RandomSource(seed: 5)
        for key in [0, 1, 2, UInt64.max] + (0..<200).map({ _ in random.next() }) {
            #expect(HashSchema.ringPosition(forKey: key) == HashingReference.ringPosition(key), "key \(key)")
        }
        let strategy = try PrefixAffinity(keyDepthTokens: 32, fallback: RoundRobin())
        let request = RoutingRequest(blockHashes: [BlockHash(5), BlockHash(6), BlockHash(7)], blockSize: 16)
        #expect(strategy.ringKey(of: request) == 6, "the key block is block 32 / 16 - 1")
        #expect(strategy.ringPosition(of: request) == HashingReference.ringPosition(6))
        #expect(strategy.ringPosition(of: RoutingRequest()) == nil)
    }

    /// Keys 0..<1000 (engine block ids, say) used as block hashes: unmixed they all fall before the ring's
    /// first point and land on one replica; mixed they spread over all replicas about evenly.
    ///
    /// Mutation caught: ``PrefixAffinity`` looking up the raw key (all 1,000 requests on one replica).
    @Test func smallIntegerKeysSpreadOverTheReplicas() throws {
        let replicas = replicaIDs(8)
        let router = try FleetRouter(
            replicaIDs: replicas,
            strategy: try PrefixAffinity(fallback: LeastOutstanding(seed: 1))
        )
        var perReplica: [ReplicaID: Int] = [:]
        for key in UInt64(0)..<1_000 {
            let decision = try #require(router.route(keyedRequest(key)))
            #expect(decision.reason == .affinity, "an idle fleet places every key on its owner")
            perReplica[decision.replica, default: 0] += 1
            decision.lease.release()
        }
        #expect(perReplica.count == 8, "\(perReplica)")
        // Mean 125; with 160 points per replica the ring's own imbalance stays well within ±50%.
        #expect(perReplica.values.allSatisfy { (62...188).contains($0) }, "\(perReplica)")
        // What the mixing prevents: the raw keys all have one owner.
        let raw = Set((UInt64(0)..<1_000).compactMap { router.ring.owner(of: $0) })
        #expect(raw.count == 1)
    }

    /// Golden placements of ``PrefixAffinity`` on an idle fleet: the owner of the mixed key, found by brute force
    /// over the documented ring points. Never change these within schema version 2.
    ///
    /// Mutation caught: any change to the key choice, the mixing or the ring lookup that moves keys.
    @Test func goldenAffinityPlacements() throws {
        let members = RingGoldenTests.members
        let router = try FleetRouter(
            replicas: members.map { Replica(id: $0) },
            strategy: try PrefixAffinity(fallback: LeastOutstanding(seed: 1))
        )
        let keys: [UInt64] = [0, 1, 42, .max, 0x1234_5678_9ABC_DEF0]
        var placed: [String] = []
        for key in keys {
            let decision = try #require(router.route(keyedRequest(key)))
            let expected = RingGoldenTests.referenceOwner(of: HashingReference.ringPosition(key), vnodes: 160)
            #expect(decision.replica == expected, "key \(key)")
            placed.append(decision.replica.rawValue)
            decision.lease.release()
        }
        #expect(placed == Self.goldenOwners)  // GOLDEN
    }

    /// Computed separately (Python, libxxhash through ctypes); the same script reproduces the raw-key owners
    /// pinned in ``RingGoldenTests``.
    static let goldenOwners: [String] = ["vllm-2", "vllm-2", "vllm-3", "vllm-3", "10.0.0.7:8000"]
}
