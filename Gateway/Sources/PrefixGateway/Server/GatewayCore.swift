import Logging
import NIOConcurrencyHelpers
import PrefixRouter
import Synchronization

/// Everything a request needs, shared by the handlers and the background services: the router, the
/// reloadable runtime state, the admission gate, metrics and health. (The upstream client is created by
/// `Gateway.run`, whose service group shuts it down: a gateway that never runs owns no client.)
final class GatewayCore: Sendable {
    /// The fixed part of the configuration (admission, timeouts, health settings); a reload changes only
    /// what ``GatewayRuntime`` holds and the router's membership.
    let configuration: GatewayConfiguration
    let router: any PrefixRouter.Router & FleetControl
    let gate: AdmissionGate
    let metrics: GatewayMetrics
    let health: ReplicaHealthBook
    let logger: Logger
    let retryAdvice: RetryAdvice
    private let runtimeBox: NIOLockedValueBox<GatewayRuntime>
    private let shuttingDownFlag = Atomic<Bool>(false)
    /// The completion exchanges open now.
    let exchanges = OpenExchanges()

    init(configuration: GatewayConfiguration, source: String, logger: Logger) throws(GatewayConfigurationError) {
        try configuration.validate(source: source)
        let runtime = try GatewayRuntime(configuration, source: source)
        let endpoints = runtime.directory.order.compactMap { runtime.directory.endpoints[$0] }
        let router = try RouterFactory.makeRouter(configuration, replicas: endpoints)
        let metrics = GatewayMetrics()
        self.configuration = configuration
        self.router = router
        self.gate = AdmissionGate(limit: configuration.admission.maxInFlight)
        self.metrics = metrics
        self.health = ReplicaHealthBook(
            router: router,
            settings: configuration.health,
            metrics: metrics,
            logger: logger
        )
        self.logger = logger
        self.retryAdvice = RetryAdvice(upToSeconds: configuration.admission.retryAfterSeconds)
        self.runtimeBox = NIOLockedValueBox(runtime)
        health.track(runtime.directory.order)
    }

    /// The runtime state now.
    var runtime: GatewayRuntime { runtimeBox.withLockedValue { $0 } }

    /// Replaces the runtime state (reload).
    func replaceRuntime(_ runtime: GatewayRuntime) { runtimeBox.withLockedValue { $0 = runtime } }

    /// Whether graceful shutdown has begun: new requests are answered 503.
    var isShuttingDown: Bool { shuttingDownFlag.load(ordering: .relaxed) }

    /// Starts refusing new requests.
    func beginShutdown() { shuttingDownFlag.store(true, ordering: .relaxed) }

}
