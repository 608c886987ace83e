/// Errors the engine throws on purpose; thrown from a response body, they make Hummingbird close the
/// connection without ending the response.
enum MockFault: Error, Sendable {
    /// `dieAfterTokens` was reached.
    case died
    /// The engine stopped while a response was stalled (`stallAfterTokens`).
    case stoppedWhileStalled
}
