import HTTPTypes

/// `Retry-After` and `retry-after-ms` for 429 and 503 answers, with full jitter so that rejected clients do
/// not come back in lockstep.
///
/// The wait is drawn uniformly from 0.5 s to the configured bound (at most 60 s: OpenAI's clients ignore
/// longer advice). `retry-after-ms` (which OpenAI's clients read first) carries it exactly; `Retry-After`
/// (RFC 9110 §10.2.3) in whole seconds, rounded up.
struct RetryAdvice: Sendable {
    /// The largest advised wait in milliseconds.
    let boundMilliseconds: Int

    init(upToSeconds seconds: Double) {
        boundMilliseconds = max(500, min(60_000, Int(seconds * 1_000)))
    }

    /// A fresh jittered wait in milliseconds.
    func nextMilliseconds() -> Int { Int.random(in: 500...boundMilliseconds) }

    /// The two headers for a fresh jittered wait.
    func headers() -> HTTPFields {
        let milliseconds = nextMilliseconds()
        var fields = HTTPFields()
        fields[.retryAfter] = String((milliseconds + 999) / 1_000)
        fields[HTTPField.Name.retryAfterMilliseconds] = String(milliseconds)
        return fields
    }
}

extension HTTPField.Name {
    /// `retry-after-ms`: the advised wait in milliseconds, read by OpenAI's client libraries.
    static let retryAfterMilliseconds = HTTPField.Name("retry-after-ms")!
    /// `x-request-id`: the request's id, taken from the client or generated, and sent upstream.
    static let requestID = HTTPField.Name("x-request-id")!
    /// `x-accel-buffering`: `no` keeps nginx in front of the gateway from buffering streams.
    static let accelBuffering = HTTPField.Name("x-accel-buffering")!
    /// `x-admin-key`: an alternative to `Authorization` for the admin endpoints.
    static let adminKey = HTTPField.Name("x-admin-key")!
}
