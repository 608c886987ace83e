@_spi(Internals) import PrefixRouter
import Testing

/// Ring placement is part of the library's contract: every gateway process, on every platform and every
/// release, must place a key on the same replica. These tests recompute placement independently (bytes built
/// by hand, XXH3 called directly, owner found by brute force) and pin golden values that must never change.
@Suite("Ring golden vectors")
struct RingGoldenTests {
    static let members: [ReplicaID] = ["vllm-0", "vllm-1", "vllm-2", "vllm-3", "10.0.0.7:8000"]

    /// The documented point encoding: LE64(byte length) ‖ UTF-8 id ‖ LE64(virtual node), XXH3 seeded.
    static func referencePoint(_ id: String, _ vnode: Int) -> UInt64 {
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt64(id.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: id.utf8)
        withUnsafeBytes(of: UInt64(vnode).littleEndian) { bytes.append(contentsOf: $0) }
        return XXH3Hash.hash(bytes, seed: HashRing.pointSeed)
    }

    static func referenceOwner(of key: UInt64, vnodes: Int) -> ReplicaID {
        var best: (point: UInt64, id: ReplicaID)?
        var lowest: (point: UInt64, id: ReplicaID)?
        for id in members {
            for vnode in 0..<vnodes {
                let point = referencePoint(id.rawValue, vnode)
                if point >= key, best.map({ point < $0.point }) ?? true { best = (point, id) }
                if lowest.map({ point < $0.point }) ?? true { lowest = (point, id) }
            }
        }
        return (best ?? lowest)!.id
    }

    static let keys: [UInt64] = [
        0, 1, 0x7FFF_FFFF_FFFF_FFFF, 0xFFFF_FFFF_FFFF_FFFF, 0x1234_5678_9ABC_DEF0, 0xDEAD_BEEF,
    ]

    @Test func pointsMatchTheDocumentedEncoding() {
        for id in Self.members {
            for vnode in [0, 1, 159, 1_000] {
                #expect(HashRing.point(of: id, virtualNode: vnode) == Self.referencePoint(id.rawValue, vnode))
            }
        }
    }

    @Test func ownersMatchBruteForce() throws {
        let ring = try HashRing(members: Self.members.map { Replica(id: $0) })
        var random = RandomSource(seed: 42)
        for key in Self.keys + (0..<200).map({ _ in random.next() }) {
            #expect(ring.owner(of: key) == Self.referenceOwner(of: key, vnodes: 160), "key \(key)")
        }
    }

    /// Golden: recorded once from the reference computation above. Never change these values: a change
    /// moves keys in every deployment that upgrades.
    @Test func goldenPoints() {
        #expect(HashRing.point(of: "vllm-0", virtualNode: 0) == Self.goldenPoint0)
        #expect(HashRing.point(of: "10.0.0.7:8000", virtualNode: 159) == Self.goldenPoint1)
    }

    @Test func goldenOwners() throws {
        let ring = try HashRing(members: Self.members.map { Replica(id: $0) })
        #expect(Self.keys.map { ring.owner(of: $0)?.rawValue ?? "" } == Self.goldenOwners)
    }

    static let goldenPoint0: UInt64 = 8_626_921_290_348_444_349
    static let goldenPoint1: UInt64 = 16_010_923_179_386_115_211
    static let goldenOwners: [String] = ["vllm-0", "vllm-0", "vllm-3", "vllm-0", "vllm-1", "vllm-0"]
}
