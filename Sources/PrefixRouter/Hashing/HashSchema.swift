internal import CXXHash

/// The versioned definition of every hash that decides where a request goes, and the check that the
/// XXH3 library in use computes them as specified.
///
/// Gateways that share a fleet route a prompt to the same replica only if they compute the same hashes, so
/// every gateway of a fleet must run the same schema version with a compatible libxxhash. The schema covers:
///
/// - the namespace root (``HashNamespace/root``), whose first encoded byte is ``version``, so hashes of
///   different versions never coincide except by a 64-bit collision;
/// - the token, text and chat block chains seeded with that root (``PrefixHasher``), including the chat
///   serialization (``ChatSerialization``);
/// - the ring key mixing of ``PrefixAffinity`` (``ringPosition(forKey:)``).
///
/// Version 2 (this release) changed all three; <doc:HashingSchema> describes what each version hashes and
/// what a fleet sees while its gateways upgrade one by one.
///
/// ### The libxxhash check
/// Every hash is XXH3-64 from the system's libxxhash. XXH3's output was frozen in xxHash 0.8.0 (release
/// notes of xxHash v0.8.0, "Stable XXH3"); 0.7.x computed different values, yet both ship as
/// `libxxhash.so.0`, so a gateway linked against one and run with the other would hash differently from its
/// peers without any error. The build refuses headers older than 0.8.0, and ``validateLibrary()`` checks the
/// library actually loaded: its `XXH_versionNumber()` and one of xxHash's own known answers. The check runs
/// once per process, lazily; ``PrefixHasher/init(blockSize:namespace:tailPolicy:)`` performs it, so hashing
/// itself pays nothing.
public enum HashSchema {
    /// The current schema version, the first byte of every namespace-root encoding and chat serialization.
    public static let version: UInt8 = 2

    /// The oldest libxxhash accepted, as `XXH_VERSION_NUMBER` (`major·10000 + minor·100 + release`): 0.8.0.
    public static let minimumXXHashVersionNumber = 800

    /// The version number of the libxxhash loaded in this process (`XXH_versionNumber()`), for logs.
    public static var xxhashVersionNumber: Int { Int(XXH_versionNumber()) }

    /// The fixed XXH3 seed of ``ringPosition(forKey:)``: the ASCII bytes of `"PREFIXRK"` read as a
    /// big-endian integer.
    public static let ringKeySeed: UInt64 = 0x5052_4546_4958_524B

    /// Throws if the libxxhash loaded in this process does not compute the schema's XXH3 values.
    ///
    /// Call it once at startup to fail fast with a clear message; ``PrefixHasher``'s initialiser calls it too.
    /// The check itself runs once per process (the result is cached), so later calls cost a load.
    ///
    /// - Throws: ``PrefixRouterError`` with code ``PrefixRouterError/Code/incompatibleLibrary`` naming libxxhash, the version found and
    ///   the version required, when the loaded library is older than 0.8.0 or fails xxHash's known answer for
    ///   `"abc"`.
    public static func validateLibrary() throws(PrefixRouterError) {
        if let problem = loadedLibraryProblem { throw problem }
    }

    /// The problem with the loaded library, computed once (Swift initialises static properties lazily and
    /// exactly once, thread-safely).
    static let loadedLibraryProblem: PrefixRouterError? = libraryProblem(
        versionNumber: Int(XXH_versionNumber()),
        abcHash: withUnsafeBytes(of: (UInt8(ascii: "a"), UInt8(ascii: "b"), UInt8(ascii: "c"))) {
            XXH3.hash($0, seed: 0)
        }
    )

    /// XXH3-64 of `"abc"` (seed 0), from xxHash's `cli/xsum_sanity_check.c`.
    static let abcKnownAnswer: UInt64 = 0x78AF_5F94_892F_3950

    /// The problem with a library reporting `versionNumber` and hashing `"abc"` to `abcHash`, or nil. Pure.
    static func libraryProblem(versionNumber: Int, abcHash: UInt64) -> PrefixRouterError? {
        guard versionNumber >= minimumXXHashVersionNumber else {
            return PrefixRouterError(
                .incompatibleLibrary,
                "libxxhash: expected version 0.8.0 or later (XXH3 output is stable from 0.8.0 on; older releases "
                    + "hash differently, so this gateway would disagree with its peers), found "
                    + "\(versionString(versionNumber)) loaded at run time; install libxxhash >= 0.8.0"
            )
        }
        guard abcHash == abcKnownAnswer else {
            return PrefixRouterError(
                .incompatibleLibrary,
                "libxxhash: expected XXH3-64(\"abc\") = 0x78af5f94892f3950 (xxHash's known answer), found 0x"
                    + "\(String(abcHash, radix: 16)) with libxxhash \(versionString(versionNumber)); the library "
                    + "is not a compatible build of xxHash >= 0.8.0"
            )
        }
        return nil
    }

    /// `major.minor.release` of an `XXH_VERSION_NUMBER`.
    static func versionString(_ number: Int) -> String {
        "\(number / 10_000).\(number / 100 % 100).\(number % 100)"
    }

    /// Where a 64-bit ring key lands on the consistent-hash ring: XXH3-64 of the key's 8 little-endian bytes,
    /// seeded with ``ringKeySeed``.
    ///
    /// Keys are mixed once before the ring lookup so that any 64-bit key spreads over the whole ring, not only
    /// keys that are already uniform hashes: a caller that keys on small integers (engine block ids, counters)
    /// would otherwise land every request below the ring's first point, on one replica. Mixing a chained
    /// block hash costs one XXH3 call on 8 bytes and is part of schema version 2.
    ///
    /// - Complexity: O(1), no allocation.
    @inlinable
    public static func ringPosition(forKey key: UInt64) -> UInt64 {
        withUnsafeBytes(of: key.littleEndian) { XXH3.hash($0, seed: ringKeySeed) }
    }
}
