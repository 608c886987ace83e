import NIOConcurrencyHelpers

/// A string shared between a reading task and a test, behind a lock.
final class NIOLockedStrings: Sendable {
    private let box = NIOLockedValueBox("")

    /// The current text.
    var value: String { box.withLockedValue { $0 } }

    /// Replaces the text.
    func set(_ text: String) { box.withLockedValue { $0 = text } }
}
