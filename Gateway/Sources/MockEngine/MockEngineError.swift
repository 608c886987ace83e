/// Errors of ``MockEngine``'s life cycle.
public enum MockEngineError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A configuration field is out of range; the message names it.
    case invalidConfiguration(String)
    /// ``MockEngine/start()`` was called a second time; an engine starts once.
    case alreadyStarted
    /// The server stopped before it reported a bound port.
    case serverDidNotStart

    /// A readable description of the error.
    public var description: String {
        switch self {
        case .invalidConfiguration(let message): "invalid mock engine configuration: \(message)"
        case .alreadyStarted: "the mock engine was already started"
        case .serverDidNotStart: "the mock engine's server stopped before it was listening"
        }
    }
}
