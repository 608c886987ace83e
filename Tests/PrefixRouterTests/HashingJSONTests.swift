import Foundation
@_spi(Internals) import PrefixRouter
import Testing

/// ``JSONValue``: decoding any JSON, and the RFC 8785 canonical form that tools, tool calls and non-text content
/// parts are hashed in. Expected strings are RFC 8785's own examples and Appendix B number vectors, re-checked
/// with Node.js (`JSON.stringify` of the same doubles).
@Suite struct HashingJSONTests {
    static func decode(_ json: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8))
    }

    /// Mutation caught: a JSON type decoded as another (booleans as numbers, numbers as booleans), or a kind
    /// of value rejected.
    @Test func decodesEveryKindOfValue() throws {
        let value = try Self.decode(
            #"{"n": null, "t": true, "f": false, "i": 1, "x": -2.5, "s": "é", "a": [1, "1", true], "o": {}}"#
        )
        #expect(
            value
                == .object([
                    "n": .null, "t": .bool(true), "f": .bool(false), "i": .number(1), "x": .number(-2.5),
                    "s": .string("é"), "a": .array([.number(1), .string("1"), .bool(true)]), "o": .object([:]),
                ])
        )
        #expect(try Self.decode("1") != Self.decode("true"))
        #expect(try Self.decode("0") != Self.decode("false"))
        #expect(try Self.decode("1") == Self.decode("1.0"))
        // Round trip through the encoder.
        #expect(try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value)) == value)
    }

    /// RFC 8785, section 3.2.2: the example object and its canonical form.
    ///
    /// Mutation caught: members not sorted, whitespace kept, numbers or strings written differently from
    /// ECMAScript's `JSON.stringify` (for example `/` escaped, `\u000F` in upper case, `4.50` kept).
    @Test func rfc8785Example() throws {
        let json = #"""
            {
              "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
              "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
              "literals": [null, true, false]
            }
            """#
        #expect(
            try Self.decode(json).canonicalJSON
                == #"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        )
    }

    /// RFC 8785, section 3.2.3: member names sort by UTF-16 code units, so U+1F600 (surrogates D83D DE00) sorts
    /// before U+FB33, unlike a sort by code points or by Swift's `String` ordering.
    ///
    /// Mutation caught: sorting by Unicode scalars, by UTF-8 bytes or with `String.<`.
    @Test func rfc8785MemberOrder() throws {
        let json = #"""
            {"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
             "1": "One", "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control",
             "\u00f6": "Latin Small Letter O With Diaeresis"}
            """#
        let canonical = try Self.decode(json).canonicalJSON
        let names = ["\\r", "1", "\u{80}", "ö", "€", "😀", "\u{FB33}"]
        var position = canonical.startIndex
        for name in names {
            let range = try #require(
                canonical.range(of: "\"\(name)\":", range: position..<canonical.endIndex),
                "\(name)"
            )
            position = range.upperBound
        }
    }

    /// RFC 8785, Appendix B (IEEE 754 bit patterns and their ECMAScript form).
    ///
    /// Mutation caught: any departure from ECMAScript's number formatting (exponent thresholds at 1e21 and
    /// 1e-7, `e+` sign, trailing `.0`, negative zero, non-shortest digits).
    @Test(
        arguments: [
            (0x0000_0000_0000_0000, "0"), (0x8000_0000_0000_0000, "0"), (0x0000_0000_0000_0001, "5e-324"),
            (0x8000_0000_0000_0001, "-5e-324"), (0x7FEF_FFFF_FFFF_FFFF, "1.7976931348623157e+308"),
            (0xFFEF_FFFF_FFFF_FFFF, "-1.7976931348623157e+308"), (0x4340_0000_0000_0000, "9007199254740992"),
            (0xC340_0000_0000_0000, "-9007199254740992"), (0x4430_0000_0000_0000, "295147905179352830000"),
            (0x44B5_2D02_C7E1_4AF5, "9.999999999999997e+22"), (0x44B5_2D02_C7E1_4AF6, "1e+23"),
            (0x44B5_2D02_C7E1_4AF7, "1.0000000000000001e+23"), (0x444B_1AE4_D6E2_EF4E, "999999999999999700000"),
            (0x444B_1AE4_D6E2_EF4F, "999999999999999900000"), (0x444B_1AE4_D6E2_EF50, "1e+21"),
            (0x3EB0_C6F7_A0B5_ED8C, "9.999999999999997e-7"), (0x3EB0_C6F7_A0B5_ED8D, "0.000001"),
            (0x41B3_DE43_5555_5553, "333333333.3333332"), (0x41B3_DE43_5555_5554, "333333333.33333325"),
            (0x41B3_DE43_5555_5555, "333333333.3333333"), (0x41B3_DE43_5555_5556, "333333333.3333334"),
            (0x41B3_DE43_5555_5557, "333333333.33333343"), (0xBECB_F647_612F_3696, "-0.0000033333333333333333"),
            (0x4314_3FF3_C1CB_0959, "1424953923781206.2"),
        ] as [(UInt64, String)]
    )
    func rfc8785Numbers(bits: UInt64, expected: String) {
        #expect(JSONValue.number(Double(bitPattern: bits)).canonicalJSON == expected)
    }

    /// Mutation caught: the plain/exponent thresholds off by one, or integers written with a fraction.
    @Test(
        arguments: [
            (1.0, "1"), (100.0, "100"), (1.5, "1.5"), (-2.5, "-2.5"), (0.1, "0.1"), (0.001, "0.001"),
            (1e-6, "0.000001"), (1e-7, "1e-7"), (1.23e-18, "1.23e-18"), (1e20, "100000000000000000000"),
            (1e21, "1e+21"), (1e30, "1e+30"), (123_456.789, "123456.789"),
        ] as [(Double, String)]
    )
    func numbersAsECMAScriptWritesThem(value: Double, expected: String) {
        #expect(JSONValue.number(value).canonicalJSON == expected)
    }

    /// Mutation caught: control characters escaped in upper case or not at all, or non-ASCII escaped.
    @Test func stringEscapes() {
        let string = "\u{0}\u{8}\t\n\u{B}\u{C}\r\u{1F} \"\\/\u{7F}\u{2028}é😀"
        let expected = #""\u0000\b\t\n\u000b\f\r\u001f \"\\/"# + "\u{7F}\u{2028}é😀\""
        #expect(JSONValue.string(string).canonicalJSON == expected)
    }
}
