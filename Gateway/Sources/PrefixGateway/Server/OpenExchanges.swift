import NIOConcurrencyHelpers
import NIOCore

/// The completion exchanges open now, by identity, with their client channels: counted by ``ExchangeDrain``
/// while a graceful shutdown waits for them, and closed when its grace period ends.
final class OpenExchanges: Sendable {
    private let channels = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])

    /// How many are open.
    var count: Int { channels.withLockedValue { $0.count } }

    /// Adds an exchange that serves the client connection `channel`.
    func insert(_ exchange: ObjectIdentifier, channel: any Channel) {
        channels.withLockedValue { $0[exchange] = channel }
    }

    /// Removes an exchange that ended.
    func remove(_ exchange: ObjectIdentifier) {
        _ = channels.withLockedValue { $0.removeValue(forKey: exchange) }
    }

    /// Closes the client connection of every open exchange.
    func closeAll() {
        for channel in channels.withLockedValue({ Array($0.values) }) { channel.close(promise: nil) }
    }
}
