import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The `Date` header's value (RFC 9110 §5.6.7, IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`), formatted at
/// most once per second.
final class HTTPDate: Sendable {
    private let cache = NIOLockedValueBox<(second: time_t, text: String)>((-1, ""))

    /// Creates a date source.
    init() {}

    /// The current time as an HTTP date.
    ///
    /// - Complexity: O(1); formats only when the second has changed.
    var now: String {
        var second = time(nil)
        return cache.withLockedValue { cache in
            if cache.second == second { return cache.text }
            cache = (second, Self.format(&second))
            return cache.text
        }
    }

    /// `second` as an IMF-fixdate, in the C locale's English day and month names.
    static func format(_ second: inout time_t) -> String {
        var parts = tm()
        gmtime_r(&second, &parts)
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%a, %d %b %Y %H:%M:%S GMT", &parts)
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
