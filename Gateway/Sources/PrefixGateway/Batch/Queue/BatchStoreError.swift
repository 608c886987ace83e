/// A failure of the batch store (database unreachable, a constraint violated, a row that does not decode),
/// with a message naming what failed.
public struct BatchStoreError: Error, Sendable, CustomStringConvertible {
    /// What failed.
    public var message: String

    /// An error with `message`.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
