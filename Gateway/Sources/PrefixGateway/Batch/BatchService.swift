import AsyncHTTPClient
import Logging
import ServiceLifecycle

/// The Batch API's parts in a running gateway: the queue, the dispatcher, the webhook sender, and the
/// services that run and close them.
final class BatchService: Sendable {
    let queue: any BatchQueue
    let settings: BatchConfiguration
    let clock: any BatchClock
    let dispatcher: BatchDispatcher
    let webhooks: WebhookSender?

    /// Opens the configured queue (creating its tables) and builds the dispatcher; nil when the
    /// configuration has no `batch` section.
    ///
    /// - Throws: ``BatchStoreError`` when the database cannot be opened.
    static func start(
        core: GatewayCore,
        client: HTTPClient,
        clock: any BatchClock = SystemBatchClock()
    ) async throws -> BatchService? {
        guard let settings = core.configuration.batch else { return nil }
        let queue = try await openQueue(settings, logger: core.logger)
        let capacity = BatchCapacity(configuration: core.configuration, batch: settings, gate: core.gate)
        let runner = BatchItemRunner(core: core, client: client, capacity: capacity)
        let dispatcher = BatchDispatcher(
            queue: queue,
            settings: settings,
            clock: clock,
            runner: runner,
            logger: core.logger
        )
        let webhooks = settings.webhook.map {
            WebhookSender(queue: queue, settings: $0, clock: clock, client: client, logger: core.logger)
        }
        if capacity.perReplicaBatchCap < 1 {
            core.logger.warning(
                "batch.reservedShare leaves no per-replica room for batch work: raise admission.perReplicaCap"
            )
        }
        return BatchService(queue: queue, settings: settings, clock: clock, dispatcher: dispatcher, webhooks: webhooks)
    }

    private init(
        queue: any BatchQueue,
        settings: BatchConfiguration,
        clock: any BatchClock,
        dispatcher: BatchDispatcher,
        webhooks: WebhookSender?
    ) {
        self.queue = queue
        self.settings = settings
        self.clock = clock
        self.dispatcher = dispatcher
        self.webhooks = webhooks
    }

    /// The configured backend, migrated.
    static func openQueue(_ settings: BatchConfiguration, logger: Logger) async throws -> SQLBatchQueue {
        let driver: any SQLDriver
        switch settings.store {
        case .sqlite:
            driver = try SQLiteDriver(path: settings.sqlitePath)
        case .postgres:
            driver = try await PostgresDriver.connect(url: settings.postgresURL ?? "", logger: logger)
        }
        let queue = SQLBatchQueue(driver: driver)
        do {
            try await queue.migrate()
        } catch {
            await queue.close()
            throw error
        }
        return queue
    }

    /// The services to run beside the server: the dispatcher, the webhook sender, and one that closes the
    /// queue when they have stopped (listed first, so shut down last).
    var services: [any Service] {
        var list: [any Service] = [BatchQueueCloser(queue: queue), dispatcher]
        if let webhooks { list.append(webhooks) }
        return list
    }
}

/// Closes the queue's database on shutdown, after the dispatcher and the webhook sender stopped.
struct BatchQueueCloser: Service {
    let queue: any BatchQueue

    func run() async throws {
        try? await gracefulShutdown()
        await queue.close()
    }
}
