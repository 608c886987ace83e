/// Failures a ``MockEngine`` injects on purpose, for tests of retries, health checks and cancellation.
///
/// Faults are read when a request arrives (connections: when they are accepted), so changing them with
/// ``MockEngine/setFaults(_:)`` affects new requests only.
public struct MockEngineFaults: Sendable, Equatable {
    /// Close every accepted connection at once, before reading a request.
    public var refuseConnections: Bool
    /// Cut the connection after streaming this many tokens, without ending the response properly.
    /// A non-streaming request gets its response head and then a cut connection.
    public var dieAfterTokens: Int?
    /// Stop sending after this many tokens but keep the connection open until the client leaves
    /// (or the engine stops).
    public var stallAfterTokens: Int?
    /// Answer every inference request with this status (400...599) and an OpenAI-shaped error body.
    public var failStatus: Int?

    /// Creates a set of faults; the default injects none.
    public init(
        refuseConnections: Bool = false,
        dieAfterTokens: Int? = nil,
        stallAfterTokens: Int? = nil,
        failStatus: Int? = nil
    ) {
        self.refuseConnections = refuseConnections
        self.dieAfterTokens = dieAfterTokens
        self.stallAfterTokens = stallAfterTokens
        self.failStatus = failStatus
    }

    /// Checks the token counts and the status.
    ///
    /// - Throws: ``MockEngineError/invalidConfiguration(_:)`` naming the bad field.
    public func validate() throws {
        if let dieAfterTokens, dieAfterTokens < 0 {
            throw MockEngineError.invalidConfiguration("dieAfterTokens must not be negative")
        }
        if let stallAfterTokens, stallAfterTokens < 0 {
            throw MockEngineError.invalidConfiguration("stallAfterTokens must not be negative")
        }
        if let failStatus, !(400...599).contains(failStatus) {
            throw MockEngineError.invalidConfiguration("failStatus must be in 400...599")
        }
    }
}
