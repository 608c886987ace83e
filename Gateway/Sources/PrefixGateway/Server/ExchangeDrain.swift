import ServiceLifecycle

/// Keeps the service group from stopping while completion exchanges still run. They hold no task of the
/// server's, so Hummingbird's graceful shutdown (stop listening, wait for its connection tasks) does not wait
/// for them; listed just before the server, this service is told to stop right after it, and returns once
/// every exchange has ended; when the group's grace period ends first (it cancels the service), it closes
/// the client connections of those still open, which ends their exchanges as hang-ups do.
struct ExchangeDrain: Service {
    let core: GatewayCore

    func run() async throws {
        try? await gracefulShutdown()
        while core.exchanges.count > 0 && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if Task.isCancelled { core.exchanges.closeAll() }
    }
}
