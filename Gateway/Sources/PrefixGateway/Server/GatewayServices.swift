import AsyncHTTPClient
import Logging
import ServiceLifecycle
import UnixSignals

/// Shuts the upstream client down when the service group stops (after the server, which is listed last and
/// so stops first).
struct UpstreamClientService: Service {
    let client: HTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}

/// Listed after the server, so told first about a graceful shutdown: from then on new requests on open
/// connections are answered 503 with Retry-After, and `/health` fails, while in-flight streams finish.
struct ShutdownNotifier: Service {
    let core: GatewayCore

    func run() async throws {
        try? await gracefulShutdown()
        core.beginShutdown()
        core.logger.notice("graceful shutdown: refusing new requests, letting in-flight streams finish")
    }
}

/// Reloads the configuration file on SIGHUP.
struct HangupReloader: Service {
    let reload: @Sendable () async throws -> Void
    let logger: Logger

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        for await _ in signals.cancelOnGracefulShutdown() {
            do {
                try await reload()
            } catch {
                logger.error(
                    "configuration reload failed; keeping the running configuration",
                    metadata: ["error": "\(error)"]
                )
            }
        }
    }
}
