import Hummingbird
public import Logging
import NIOConcurrencyHelpers
import NIOCore
import ServiceLifecycle

/// An OpenAI-compatible mock of a vLLM replica, for tests, the demo and load tests.
///
/// It serves `POST /v1/chat/completions` and `POST /v1/completions` (full or streamed), `GET /v1/models`,
/// `GET /health` and `GET /metrics` (vLLM's metric names). Requests wait for one of
/// ``MockEngineConfiguration/maxRunning`` running slots in `priority` then arrival order, prefill through one
/// shared queue, then decode at ``MockEngineConfiguration/decodeTokensPerSecond``; a prefix cache of its own
/// reports `usage.prompt_tokens_details.cached_tokens`. Generated text is `tok0 tok1 tok2 …`.
///
/// ```swift
/// let engine = MockEngine(configuration: MockEngineConfiguration(maxRunning: 4))
/// let port = try await engine.start()
/// // … send requests to http://127.0.0.1:\(port) …
/// await engine.stop()  // on every path, failures included
/// ```
///
/// Answers to inference requests carry `connection: close`: watching for a client hang-up consumes the
/// connection's inbound stream, so each inference request has a connection of its own.
public final class MockEngine: Sendable {
    /// The configuration the engine was created with.
    public let configuration: MockEngineConfiguration
    private let logger: Logger
    private let core: EngineCore
    private let lifecycle = NIOLockedValueBox(Lifecycle.idle)

    private enum Lifecycle: Sendable {
        case idle
        case running(Task<Void, any Error>, ServiceGroup)
        case stopping(Task<Void, any Error>)
        case stopped
    }

    /// Creates an engine; nothing listens until ``start()``.
    public init(configuration: MockEngineConfiguration, logger: Logger = Logger(label: "mock-engine")) {
        self.configuration = configuration
        self.logger = logger
        self.core = EngineCore(configuration: configuration)
    }

    /// Starts serving in the background and returns the bound port (useful with port 0).
    ///
    /// An engine starts once, even after ``stop()``.
    ///
    /// - Throws: ``MockEngineError`` for a bad configuration or a second start, or the server's error when it
    ///   cannot bind.
    public func start() async throws -> Int {
        try configuration.validate()
        let (ports, portContinuation) = AsyncStream<Int>.makeStream()
        let core = core
        let application = Application(
            router: EngineRoutes.router(core: core),
            server: .http1(
                configuration: .init(additionalChannelHandlers: [
                    RefuseConnectionsHandler { core.faults.refuseConnections }
                ])
            ),
            configuration: ApplicationConfiguration(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: nil,
                backlog: 4_096
            ),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger
        )
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [application], logger: logger))
        let task: Task<Void, any Error> = try lifecycle.withLockedValue { state in
            guard case .idle = state else { throw MockEngineError.alreadyStarted }
            let task = Task {
                defer { portContinuation.finish() }
                try await group.run()
            }
            state = .running(task, group)
            return task
        }
        for await port in ports {
            return port
        }
        if Task.isCancelled {
            await stop()
            throw CancellationError()
        }
        // The server ended before it listened: report its error.
        defer { lifecycle.withLockedValue { $0 = .stopped } }
        try await task.value
        throw MockEngineError.serverDidNotStart
    }

    /// Stops the engine: stops accepting connections, lets in-flight responses finish for up to
    /// ``MockEngineConfiguration/shutdownGracePeriod`` (stalled ones end at once), then cancels the rest.
    ///
    /// Idempotent: later and concurrent calls return once the engine has stopped.
    public func stop() async {
        enum Step {
            case nothing
            case wait(Task<Void, any Error>)
            case shutDown(Task<Void, any Error>, ServiceGroup)
        }
        let step = lifecycle.withLockedValue { state -> Step in
            switch state {
            case .idle:
                state = .stopped
                return .nothing
            case .stopped:
                return .nothing
            case .stopping(let task):
                return .wait(task)
            case .running(let task, let group):
                state = .stopping(task)
                return .shutDown(task, group)
            }
        }
        switch step {
        case .nothing:
            return
        case .wait(let task):
            _ = await task.result
        case .shutDown(let task, let group):
            core.stopping = true
            await group.triggerGracefulShutdown()
            let grace = configuration.shutdownGracePeriod
            let graceful = await withTaskGroup(of: Bool.self) { waiters in
                waiters.addTask {
                    _ = await task.result
                    return true
                }
                waiters.addTask {
                    try? await Task.sleep(for: grace)
                    return false
                }
                let graceful = await waiters.next() ?? true
                if !graceful { task.cancel() }
                waiters.cancelAll()
                return graceful
            }
            if !graceful {
                logger.debug("mock engine: in-flight responses cancelled after the grace period")
            }
            lifecycle.withLockedValue { $0 = .stopped }
        }
    }

    /// A snapshot of the counters, the queue and the latest requests.
    public var stats: MockEngineStats {
        core.stats
    }

    /// Makes `/health` answer 200 (healthy) or 503 (unhealthy); inference is not affected.
    public func setHealthy(_ healthy: Bool) {
        core.healthy = healthy
    }

    /// Replaces the injected faults; they apply to requests and connections that arrive afterwards.
    public func setFaults(_ faults: MockEngineFaults) {
        core.faults = faults
    }
}
