import AsyncHTTPClient
import Hummingbird
import HummingbirdCore
public import Logging
import NIOConcurrencyHelpers
import NIOPosix
public import PrefixRouter
import ProcessLimits
import ServiceLifecycle
public import UnixSignals

/// An OpenAI-compatible streaming gateway in front of inference replicas, routing with PrefixRouter.
///
/// ```swift
/// let configuration = try GatewayConfiguration.load(contentsOf: "gateway.json")
/// let gateway = try Gateway(configuration: configuration, logger: Logger(label: "prefix-gateway"))
/// try await gateway.run()   // until SIGTERM/SIGINT: then drains in-flight streams and returns
/// ```
///
/// One `FleetRouter` holds every replica (a replica serving several models counts its outstanding requests
/// once); requests for a model are routed among the replicas serving it by excluding the others.
public final class Gateway: Sendable {
    let core: GatewayCore
    private let configurationPath: String?
    private let group = NIOLockedValueBox<ServiceGroup?>(nil)
    private let reloadLock = NIOLockedValueBox<GatewayConfiguration>(GatewayConfiguration())
    /// The Batch API's clock (tests inject their own).
    let batchClock: any BatchClock

    /// Builds a gateway. Nothing listens until ``run(gracefulShutdownSignals:onListening:)``.
    ///
    /// - Parameters:
    ///   - configuration: the configuration; validated here.
    ///   - configurationPath: the file it came from, re-read by SIGHUP and `POST /admin/reload`; nil: no
    ///     reload.
    ///   - logger: the gateway's logger.
    ///   - batchClock: the Batch API's clock (the wall clock; tests inject their own).
    /// - Throws: ``GatewayConfigurationError`` naming the offending field.
    public init(
        configuration: GatewayConfiguration,
        configurationPath: String? = nil,
        logger: Logger,
        batchClock: any BatchClock = SystemBatchClock()
    ) throws(GatewayConfigurationError) {
        self.batchClock = batchClock
        core = try GatewayCore(
            configuration: configuration,
            source: configurationPath ?? "configuration",
            logger: logger
        )
        self.configurationPath = configurationPath
        reloadLock.withLockedValue { $0 = configuration }
        if configuration.auth.apiKeys.isEmpty {
            logger.warning("no client API keys configured (auth.apiKeys): the API is open to anyone who can reach it")
        }
        if configuration.auth.adminKey == nil {
            logger.notice("no admin key configured (auth.adminKey): admin endpoints are disabled")
        }
    }

    /// Runs the server and its background services (health checks, SIGHUP reload) until a graceful shutdown
    /// signal, ``triggerGracefulShutdown()`` or cancellation. On graceful shutdown it stops accepting
    /// connections, answers new requests 503, lets in-flight streams finish for up to
    /// `shutdown.gracePeriodSeconds`, then cancels the rest and returns.
    ///
    /// - Parameters:
    ///   - gracefulShutdownSignals: signals that start a graceful shutdown; none in tests.
    ///   - onListening: called with the bound port once the server accepts connections.
    public func run(
        gracefulShutdownSignals: [UnixSignal] = [.sigterm, .sigint],
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let configuration = core.configuration
        reserveDescriptorTable(configuration)
        let client = UpstreamClient.make(configuration)
        let batch: BatchService?
        do {
            batch = try await BatchService.start(core: core, client: client, clock: batchClock)
        } catch {
            try? await client.shutdown()
            throw error
        }
        let routes = GatewayRoutes.build(core: core, batch: batch) { [self] in
            try await self.reloadFromFile()
        }
        let server = GatewayServer(
            host: configuration.listen.host,
            port: configuration.listen.port,
            backlog: configuration.listen.backlog,
            childChannel: GatewayChildChannel(
                http: HTTP1Channel(
                    responder: routes.http1Responder(logger: core.logger, dates: HTTPDate()),
                    configuration: .init(
                        additionalChannelHandlers: [ReceiveBufferSizer()],
                        idleTimeout: .milliseconds(Int64(configuration.listen.idleTimeoutSeconds * 1_000))
                    )
                ),
                proxy: CompletionProxy(core: core, connector: UpstreamConnector(configuration))
            ),
            group: .singleton,
            logger: core.logger,
            onListening: onListening
        )
        var services: [any Service] = [
            UpstreamClientService(client: client), HealthChecker(core: core, client: client),
        ]
        services += batch?.services ?? []  // stopped after the server, before the client
        if configurationPath != nil, gracefulShutdownSignals.contains(.sigterm) {
            services.append(HangupReloader(reload: { [self] in try await self.reloadFromFile() }, logger: core.logger))
        }
        // Shut down in reverse order: the notifier first (refuse new requests), then the server (drain), then
        // the background services and the client.
        services.append(ExchangeDrain(core: core))  // stops after the server: lets spliced streams end
        services.append(server)
        services.append(ShutdownNotifier(core: core))
        var groupConfiguration = ServiceGroupConfiguration(
            services: services,
            gracefulShutdownSignals: gracefulShutdownSignals,
            logger: core.logger
        )
        groupConfiguration.maximumGracefulShutdownDuration = .milliseconds(
            Int64(configuration.shutdown.gracePeriodSeconds * 1_000)
        )
        groupConfiguration.maximumCancellationDuration = .seconds(15)
        let serviceGroup = ServiceGroup(configuration: groupConfiguration)
        group.withLockedValue { $0 = serviceGroup }
        logger.notice(
            "prefix-gateway starting",
            metadata: [
                "listen": "\(configuration.listen.host):\(configuration.listen.port)",
                "replicas": "\(configuration.replicas.count)", "strategy": "\(configuration.routing.strategy.rawValue)",
            ]
        )
        try await serviceGroup.run()
    }

    /// Sizes the descriptor table before the first connection (`listen.reserveDescriptors`), after raising
    /// the soft open-file limit to what the admission cap needs, within the hard limit.
    private func reserveDescriptorTable(_ configuration: GatewayConfiguration) {
        let maxInFlight = configuration.admission.maxInFlight
        let needed = DescriptorTable.size(forMaxInFlight: maxInFlight, softLimit: nil)
        let softLimit = DescriptorTable.raiseSoftLimit(to: needed)
        let count = min(configuration.listen.reserveDescriptors ?? needed, softLimit ?? needed)
        switch DescriptorTable.reserve(count) {
        case .reserved(let count):
            core.logger.debug("descriptor table reserved", metadata: ["descriptors": "\(count)"])
        case .skipped:
            break
        case .failed(let errno):
            core.logger.warning(
                "could not reserve the descriptor table (listen.reserveDescriptors): it grows under load",
                metadata: ["descriptors": "\(count)", "errno": "\(errno)"]
            )
        }
        // softLimit < 2 × maxInFlight + 16, without overflow (maxInFlight has no upper bound).
        if let softLimit, maxInFlight > (softLimit - 16) / 2 {
            core.logger.notice(
                "the open-file limit holds fewer than two descriptors per admitted stream (client and replica)",
                metadata: ["ulimit -n": "\(softLimit)", "admission.maxInFlight": "\(maxInFlight)"]
            )
        }
    }

    /// Starts a graceful shutdown of a running gateway, as SIGTERM does.
    public func triggerGracefulShutdown() async {
        await group.withLockedValue { $0 }?.triggerGracefulShutdown()
    }

    /// The gateway's logger.
    public var logger: Logger { core.logger }

    /// The fleet's state: replicas, health, drain, outstanding counts, decisions.
    public func snapshot() -> FleetSnapshot { core.router.snapshot() }

    /// Requests holding an admission slot now.
    public var inFlight: Int { core.gate.current }

    /// Re-reads the configuration file and applies it (what SIGHUP does).
    ///
    /// - Throws: ``GatewayConfigurationError`` when there is no file or it is invalid; the running
    ///   configuration is then kept.
    public func reloadFromFile() async throws {
        guard let configurationPath else {
            throw GatewayConfigurationError(field: "", "no configuration file to reload (started from flags)")
        }
        let configuration = try GatewayConfiguration.load(contentsOf: configurationPath)
        try reload(configuration, source: configurationPath)
    }

    /// Applies a new configuration's replicas (added, removed, reweighted, models and keys changed) and keys
    /// without dropping in-flight streams: a removed replica's streams run to their end. Settings that need
    /// a restart (listen address, admission, upstream, routing, health, shutdown) are kept, with a warning.
    ///
    /// - Throws: ``GatewayConfigurationError`` when `configuration` is invalid; nothing is changed then.
    public func reload(
        _ configuration: GatewayConfiguration,
        source: String = "configuration"
    ) throws(GatewayConfigurationError) {
        try configuration.validate(source: source)
        let runtime = try GatewayRuntime(configuration, source: source)
        do {
            try apply(configuration, runtime: runtime, source: source)
        } catch let error as GatewayConfigurationError {
            throw error
        } catch {
            throw GatewayConfigurationError(source: source, field: "", "\(error)")
        }
    }

    private func apply(_ configuration: GatewayConfiguration, runtime: GatewayRuntime, source: String) throws {
        try reloadLock.withLockedValue { (current: inout GatewayConfiguration) in
            let old = core.runtime.directory
            let new = runtime.directory
            for id in new.order {
                guard let endpoint = new.endpoints[id] else { continue }
                do {
                    if let previous = old.endpoints[id] {
                        if previous.weight != endpoint.weight { try core.router.setWeight(endpoint.weight, of: id) }
                    } else {
                        try core.router.add(Replica(id: id, weight: endpoint.weight))
                    }
                } catch let error as PrefixRouterError {
                    throw GatewayConfigurationError(source: source, field: "replicas", error.message)
                } catch {
                    throw GatewayConfigurationError(source: source, field: "replicas", "\(error)")
                }
            }
            core.health.track(new.order)
            core.replaceRuntime(runtime)
            for id in old.order where new.endpoints[id] == nil {
                try? core.router.remove(id)
                core.metrics.forget(replica: id)
            }
            var fixed = configuration
            fixed.replicas = current.replicas
            fixed.auth = current.auth
            fixed.routing.sessionHeader = current.routing.sessionHeader
            if fixed != current {
                core.logger.warning(
                    "configuration reload: only replicas, models, weights, keys and the session header change without a restart"
                )
            }
            current.replicas = configuration.replicas
            current.auth = configuration.auth
            current.routing.sessionHeader = configuration.routing.sessionHeader
            core.logger.notice(
                "configuration reloaded",
                metadata: ["replicas": "\(new.order.count)", "models": "\(new.models.joined(separator: ","))"]
            )
        }
    }
}
