@_spi(Internals) import PrefixRouter
import Testing

/// Known-answer tests of the XXH3-64 function the library uses (from xxHash's
/// `cli/xsum_sanity_check.c`). If these fail, libxxhash is older than 0.8.0 or miscompiled.
@Suite struct HashingXXH3Tests {
    static let primeSeed: UInt64 = 11_400_714_785_074_694_797  // 0x9E3779B185EBCA8D

    /// xxHash's sanity buffer: `gen = 2654435761; buf[i] = gen >> 56; gen *= 11400714785074694797`.
    static let sanityBuffer: [UInt8] = {
        var gen: UInt64 = 2_654_435_761
        var buffer: [UInt8] = []
        for _ in 0..<(4096 + 64 + 1) {
            buffer.append(UInt8(truncatingIfNeeded: gen >> 56))
            gen = gen &* primeSeed
        }
        return buffer
    }()

    @Test func emptyInput() {
        #expect(XXH3Hash.hash([], seed: 0) == 0x2D06_8005_38D3_94C2)
        #expect(XXH3Hash.hash([]) == 0x2D06_8005_38D3_94C2)
        #expect(XXH3Hash.hash([], seed: Self.primeSeed) == 0xA8A6_B918_B2F0_364A)
        #expect(XXH3Hash.hash(UnsafeRawBufferPointer(start: nil, count: 0)) == 0x2D06_8005_38D3_94C2)
    }

    @Test func abc() {
        #expect(XXH3Hash.hash(Array("abc".utf8)) == 0x78AF_5F94_892F_3950)
    }

    @Test(
        arguments: [
            (1, 0xC44B_DFF4_074E_ECDB, 0x032B_E332_DD76_6EF8),
            (6, 0x27B5_6A84_CD2D_7325, 0x8458_9C11_6AB5_9AB9),
            (12, 0xA713_DAF0_DFBB_77E7, 0xE730_3E1B_2336_DE0E),
            (24, 0xA3FE_70BF_9D35_10EB, 0x850E_80FC_35BD_D690),
            (48, 0x397D_A259_ECBA_1F11, 0xADC2_CBAA_44AC_C616),
            (80, 0xBCDE_FBBB_2C47_C90A, 0xC6DD_0CB6_9953_2E73),
            (195, 0xCD94_217E_E362_EC3A, 0xBA68_003D_370C_B3D9),
            (403, 0xCDEB_804D_65C6_DEA4, 0x6259_F6EC_FD64_43FD),
            (512, 0x617E_4959_9013_CB6B, 0x3CE4_57DE_14C2_7708),
            (2048, 0xDD59_E2C3_A5F0_38E0, 0x66F8_1670_669A_BABC),
        ] as [(Int, UInt64, UInt64)]
    )
    func sanityBuffer(length: Int, unseeded: UInt64, seeded: UInt64) {
        let prefix = Array(Self.sanityBuffer[..<length])
        #expect(XXH3Hash.hash(prefix, seed: 0) == unseeded, "length \(length), seed 0")
        #expect(XXH3Hash.hash(prefix, seed: Self.primeSeed) == seeded, "length \(length), seed 0x9E3779B185EBCA8D")
        // The raw-buffer entry point agrees with the array one.
        prefix.withUnsafeBytes { raw in
            #expect(XXH3Hash.hash(raw, seed: Self.primeSeed) == seeded, "length \(length), raw buffer")
        }
    }
}
