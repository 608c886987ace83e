import Foundation
import Logging
import PrefixRouter
import ServiceLifecycle
import Synchronization

/// Drains the queue from the fleet's spare capacity: claims as many due items as ``BatchCapacity`` allows,
/// runs each through ``BatchItemRunner``, and writes its result (fenced) or schedules its retry. Beside it,
/// a heartbeat extends this worker's leases every third of the visibility timeout, and a maintenance loop
/// reaps lapsed leases, moves batches along (expiry, cancellation, completion) and finalizes them.
///
/// On graceful shutdown it stops claiming, lets running items finish (bounded by the upstream timeout and
/// the service group's grace period), and stops; items it could not finish return to the queue when their
/// lease lapses.
final class BatchDispatcher: Service, Sendable {
    let queue: any BatchQueue
    let settings: BatchConfiguration
    let clock: any BatchClock
    let runner: BatchItemRunner
    let worker: String
    let logger: Logger
    private let running = Atomic<Int>(0)

    init(
        queue: any BatchQueue,
        settings: BatchConfiguration,
        clock: any BatchClock,
        runner: BatchItemRunner,
        logger: Logger
    ) {
        self.queue = queue
        self.settings = settings
        self.clock = clock
        self.runner = runner
        self.worker = "gw-" + BatchIdentifiers.random()
        self.logger = logger
    }

    /// Batch items this process runs now.
    var runningItems: Int { running.load(ordering: .relaxed) }

    private var leaseMillis: Int64 { Int64(settings.leaseSeconds * 1_000) }

    func run() async throws {
        let maintenance = Task { await self.maintenanceLoop() }
        let heartbeat = Task { await self.heartbeatLoop() }
        await withDiscardingTaskGroup { group in
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                let pause = await dispatchOnce(into: &group)
                if pause > .zero { try? await Task.sleep(for: pause) }
            }
        }
        maintenance.cancel()
        heartbeat.cancel()
        _ = await (maintenance.value, heartbeat.value)
    }

    /// Claims what the spare capacity allows and starts it; returns how long to wait before the next round.
    private func dispatchOnce(into group: inout DiscardingTaskGroup) async -> Duration {
        let poll = Duration.milliseconds(Int64(settings.pollSeconds * 1_000))
        let budget = runner.capacity.budget(running: runningItems, fleet: runner.core.router.snapshot())
        guard budget > 0 else { return .milliseconds(5) }  // no database call: capacity frees as items end
        let claimed: [ClaimedItem]
        do {
            claimed = try await timed(.claim) {
                try await queue.claim(
                    worker: worker,
                    limit: min(budget, 64),
                    now: clock.nowMillis(),
                    leaseMillis: leaseMillis
                )
            }
        } catch {
            logger.error("batch queue: claim failed", metadata: ["error": "\(error)"])
            return poll
        }
        if !claimed.isEmpty { runner.core.metrics.batchItemsClaimed(claimed.count) }
        for item in claimed {
            // Routed here, before the next capacity check: that check then counts this item's slot and lease.
            switch runner.route(item) {
            case .routed(let routed):
                running.add(1, ordering: .relaxed)
                group.addTask {
                    let attempt = await self.runner.send(routed)
                    self.running.subtract(1, ordering: .relaxed)
                    await self.record(item, attempt)
                }
            case .decided(let attempt):
                group.addTask { await self.record(item, attempt) }
            }
        }
        if claimed.isEmpty { return poll }
        return claimed.count < min(budget, 64) ? .milliseconds(20) : .zero
    }

    /// Writes how one attempt of an item went: its result, or its retry.
    func record(_ item: ClaimedItem, _ attempt: BatchAttempt) async {
        let now = clock.nowMillis()
        let policy = settings.retryPolicy
        do {
            switch attempt {
            case .done(let outcome):
                try await write(item, outcome, now: now)
            case .retry(let reason, let retryAfter, let last):
                guard policy.allowsRetry(after: item.attempt) else {
                    try await write(item, last, now: now)
                    return
                }
                var generator = SystemRandomNumberGenerator()
                let delay = policy.delayMillis(after: item.attempt, retryAfterMillis: retryAfter, using: &generator)
                _ = try await timed(.reschedule) {
                    try await queue.reschedule(
                        item,
                        worker: worker,
                        runAt: now + delay,
                        lastError: reason,
                        refund: false
                    )
                }
                runner.core.logger.debug(
                    "batch item retried",
                    metadata: ["batch": "\(item.batchID)", "line": "\(item.line)", "reason": "\(reason)"]
                )
            case .notStarted(let reason):
                let later = now + Int64(settings.pollSeconds * 1_000)
                _ = try await timed(.reschedule) {
                    try await queue.reschedule(item, worker: worker, runAt: later, lastError: reason, refund: true)
                }
            }
        } catch {
            // The lease lapses and the reaper returns the item: at least once, never lost.
            logger.error(
                "batch queue: recording an item failed",
                metadata: ["batch": "\(item.batchID)", "line": "\(item.line)", "error": "\(error)"]
            )
        }
    }

    private func write(_ item: ClaimedItem, _ outcome: ItemOutcome, now: Int64) async throws {
        let written = try await timed(.finish) {
            try await queue.finish(item, worker: worker, outcome: outcome, now: now)
        }
        runner.core.metrics.batchItemFinished(written ? outcome.isSuccess ? "succeeded" : "failed" : "lease_lost")
        if !written {
            logger.notice(
                "batch item answered after its lease was lost; the result of the current claim is kept",
                metadata: ["batch": "\(item.batchID)", "line": "\(item.line)"]
            )
        }
    }

    /// A pause between marking batches `finalizing` and writing their files, from the environment variable
    /// `PREFIXGATEWAY_BATCH_FINALIZE_DELAY_MS`: for crash tests only, which kill a gateway while a batch is
    /// finalizing. Unset: none.
    static let finalizeDelay: Duration? = {
        guard let text = ProcessInfo.processInfo.environment["PREFIXGATEWAY_BATCH_FINALIZE_DELAY_MS"],
            let millis = Int64(text), millis > 0
        else { return nil }
        return .milliseconds(millis)
    }()

    private func heartbeatLoop() async {
        let interval = Duration.milliseconds(max(100, leaseMillis / 3))
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            guard !Task.isCancelled else { return }
            do {
                _ = try await timed(.extendLeases) {
                    try await queue.extendLeases(worker: worker, until: clock.nowMillis() + leaseMillis)
                }
            } catch {
                logger.error("batch queue: extending leases failed", metadata: ["error": "\(error)"])
            }
        }
    }

    private func maintenanceLoop() async {
        let interval = Duration.milliseconds(max(50, min(1_000, leaseMillis / 3, Int64(settings.pollSeconds * 4_000))))
        while !Task.isCancelled {
            await maintain()
            try? await Task.sleep(for: interval)
        }
    }

    /// Reaps lapsed leases, moves batches along and finalizes the ready ones.
    func maintain() async {
        do {
            let now = clock.nowMillis()
            let (reaped, ready) = try await timed(.maintain) {
                (
                    try await queue.reap(now: now, maxAttempts: settings.maxAttempts),
                    try await queue.advance(now: now)
                )
            }
            if reaped > 0 {
                logger.notice("batch queue: returned items of lost workers", metadata: ["items": "\(reaped)"])
            }
            if !ready.isEmpty, let pause = Self.finalizeDelay { try await Task.sleep(for: pause) }
            for id in ready {
                let finalized = try await timed(.finalize) {
                    try await queue.finalize(batchID: id, now: clock.nowMillis(), webhook: settings.webhook != nil)
                }
                if let batch = finalized {
                    logger.info(
                        "batch finished",
                        metadata: [
                            "batch": "\(batch.id)", "status": "\(batch.status.rawValue)",
                            "completed": "\(batch.counts.completed)", "failed": "\(batch.counts.failed)",
                        ]
                    )
                }
            }
        } catch {
            logger.error("batch queue: maintenance failed", metadata: ["error": "\(error)"])
        }
    }

    /// Runs one queue call and records its duration in `gateway_batch_queue_operation_seconds`.
    private func timed<T>(
        _ operation: GatewayMetrics.BatchQueueOperation,
        _ body: () async throws -> T
    ) async rethrows -> T {
        let start = ContinuousClock.now
        defer { runner.core.metrics.batchQueueOperation(operation, .now - start) }
        return try await body()
    }
}
