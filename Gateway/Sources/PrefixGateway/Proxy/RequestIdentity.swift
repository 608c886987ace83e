import HTTPTypes

/// The request id: the client's `x-request-id` when it is a reasonable token (1–128 visible ASCII
/// characters), otherwise a fresh random one. Logged with every line about the request and sent upstream.
enum RequestIdentity {
    static func id(from headers: HTTPFields) -> String {
        if let given = headers[.requestID], (1...128).contains(given.utf8.count),
            given.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        {
            return given
        }
        return generate()
    }

    /// 128 random bits as 32 lowercase hex digits.
    static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt64
        return hex(high) + hex(low)
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
