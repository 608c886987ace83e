import Foundation
import Testing

@testable import PrefixGateway

/// The queue's contract, on every configured backend (SQLite always, PostgreSQL with
/// `PREFIXGATEWAY_POSTGRES_URL`), driven by explicit times (the injected clock).
@Suite("BatchQueue")
struct BatchQueueTests {
    let t0: Int64 = 1_750_000_000_000
    let lease: Int64 = 10_000

    @Test(
        "PostgreSQL backend configured",
        .enabled(
            if: QueueBackend.postgresURL != nil,
            "PREFIXGATEWAY_POSTGRES_URL is not set: the PostgreSQL runs of the BatchQueue suite are skipped (scripts/postgres start prints one)"
        )
    )
    func postgresConfigured() async throws {
        try await withQueue(.postgres) { queue, _ in
            let missing = try await queue.batch(id: "none", owner: nil)
            #expect(missing == nil)
        }
    }

    @Test("files belong to their owner; migrating twice changes nothing", arguments: QueueBackend.configured)
    func files(backend: QueueBackend) async throws {
        try await withQueue(backend) { queue, _ in
            try await queue.migrate()
            let file = BatchFile(
                id: "file-1",
                owner: "a",
                purpose: "batch",
                filename: "in.jsonl",
                bytes: 3,
                createdAt: t0
            )
            try await queue.insertFile(file, content: [1, 2, 3])
            #expect(try await queue.file(id: "file-1", owner: "a") == file)
            #expect(try await queue.fileContent(id: "file-1", owner: "a") == [1, 2, 3])
            #expect(try await queue.file(id: "file-1", owner: "b") == nil)
            #expect(try await queue.deleteFile(id: "file-1", owner: "b") == false)
            #expect(try await queue.deleteFile(id: "file-1", owner: "a") == true)
            #expect(try await queue.file(id: "file-1", owner: "a") == nil)
        }
    }

    @Test("claims take due items once, in order, up to the limit", arguments: QueueBackend.configured)
    func claims(backend: QueueBackend) async throws {
        try await withQueue(backend) { queue, _ in
            let batch = testBatch(total: 5, now: t0)
            try await queue.insertBatch(batch, items: testItems(5), webhook: false)
            let first = try await queue.claim(worker: "w1", limit: 3, now: t0, leaseMillis: lease)
            #expect(first.map(\.customID) == ["req-1", "req-2", "req-3"])
            #expect(first.allSatisfy { $0.attempt == 1 && $0.endpoint == "/v1/chat/completions" })
            let second = try await queue.claim(worker: "w2", limit: 10, now: t0, leaseMillis: lease)
            #expect(second.map(\.customID) == ["req-4", "req-5"])
            #expect(try await queue.claim(worker: "w3", limit: 10, now: t0 + lease - 1, leaseMillis: lease).isEmpty)
            #expect(try await queue.batch(id: batch.id, owner: "owner-a")?.counts.total == 5)
            #expect(try await queue.batch(id: batch.id, owner: "owner-b") == nil)
        }
    }

    @Test("concurrent claimers get distinct items", arguments: QueueBackend.configured)
    func concurrentClaims(backend: QueueBackend) async throws {
        try await withQueue(backend) { queue, _ in
            try await queue.insertBatch(testBatch(total: 200, now: t0), items: testItems(200), webhook: false)
            let claimed = try await withThrowingTaskGroup(of: [ClaimedItem].self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        var mine: [ClaimedItem] = []
                        while true {
                            let batch = try await queue.claim(
                                worker: "w\(worker)",
                                limit: 7,
                                now: t0,
                                leaseMillis: lease
                            )
                            if batch.isEmpty { return mine }
                            mine += batch
                        }
                    }
                }
                var all: [ClaimedItem] = []
                for try await part in group { all += part }
                return all
            }
            #expect(claimed.count == 200)
            #expect(Set(claimed.map(\.customID)).count == 200)
        }
    }

    @Test(
        "a lost lease's result is dropped: one result per item, from the current attempt",
        arguments: QueueBackend.configured
    )
    func fencing(backend: QueueBackend) async throws {
        try await withQueue(backend) { queue, _ in
            let batch = testBatch(total: 1, now: t0)
            try await queue.insertBatch(batch, items: testItems(1), webhook: false)
            let stale = try #require(try await queue.claim(worker: "dead", limit: 1, now: t0, leaseMillis: lease).first)
            #expect(try await queue.reap(now: t0 + lease - 1, maxAttempts: 3) == 0)
            #expect(try await queue.reap(now: t0 + lease + 1, maxAttempts: 3) == 1)
            let fresh = try #require(
                try await queue.claim(worker: "alive", limit: 1, now: t0 + lease + 1, leaseMillis: lease).first
            )
            #expect(fresh.attempt == 2)
            #expect(try await queue.finish(stale, worker: "dead", outcome: ok("{\"from\":\"dead\"}"), now: t0) == false)
            #expect(
                try await queue.finish(fresh, worker: "alive", outcome: ok("{\"from\":\"alive\"}"), now: t0) == true
            )
            #expect(try await queue.finish(fresh, worker: "alive", outcome: ok(), now: t0) == false)
            let ready = try await queue.advance(now: t0 + lease + 2)
            #expect(ready == [batch.id])
            let ended = try #require(try await queue.finalize(batchID: batch.id, now: t0 + lease + 3, webhook: false))
            #expect(ended.status == .completed)
            #expect(ended.counts == BatchRequestCounts(total: 1, completed: 1, failed: 0))
            let lines = jsonLines(try await queue.fileContent(id: try #require(ended.outputFileID), owner: "owner-a"))
            #expect(lines.count == 1)
            let response = lines.first?["response"] as? [String: Any]
            #expect((response?["body"] as? [String: Any])?["from"] as? String == "alive")
            #expect(ended.errorFileID == nil)
            #expect(try await queue.finalize(batchID: batch.id, now: t0 + lease + 4, webhook: false) == nil)
        }
    }

    @Test(
        "extended leases are not reaped; the last allowed attempt's lost lease fails the item",
        arguments: QueueBackend.configured
    )
    func leases(backend: QueueBackend) async throws {
        try await withQueue(backend) { queue, _ in
            let batch = testBatch(total: 1, now: t0)
            try await queue.insertBatch(batch, items: testItems(1), webhook: false)
            _ = try await queue.claim(worker: "w", limit: 1, now: t0, leaseMillis: lease)
            #expect(try await queue.extendLeases(worker: "w", until: t0 + 3 * lease) == 1)
            #expect(try await queue.reap(now: t0 + 2 * lease, maxAttempts: 2) == 0)
            #expect(try await queue.reap(now: t0 + 3 * lease + 1, maxAttempts: 2) == 1)
            _ = try await queue.claim(worker: "w2", limit: 1, now: t0 + 3 * lease + 1, leaseMillis: lease)
            #expect(try await queue.reap(now: t0 + 5 * lease, maxAttempts: 2) == 1)
            _ = try await queue.advance(now: t0 + 5 * lease)
            let ended = try #require(try await queue.finalize(batchID: batch.id, now: t0 + 5 * lease, webhook: false))
            #expect(ended.counts.failed == 1)
            let errors = jsonLines(try await queue.fileContent(id: try #require(ended.errorFileID), owner: "owner-a"))
            #expect((errors.first?["error"] as? [String: Any])?["code"] as? String == "attempts_exhausted")
        }
    }

    @Test(
        "a rescheduled item waits for its time; a refund does not count the attempt",
        arguments: QueueBackend.configured
    )
    func reschedule(backend: QueueBackend) async throws {
        try await withQueue(backend) { queue, _ in
            try await queue.insertBatch(testBatch(total: 1, now: t0), items: testItems(1), webhook: false)
            let first = try #require(try await queue.claim(worker: "w", limit: 1, now: t0, leaseMillis: lease).first)
            #expect(try await queue.reschedule(first, worker: "w", runAt: t0 + 500, lastError: "429", refund: false))
            #expect(try await queue.claim(worker: "w", limit: 1, now: t0 + 499, leaseMillis: lease).isEmpty)
            let second = try #require(
                try await queue.claim(worker: "w", limit: 1, now: t0 + 500, leaseMillis: lease).first
            )
            #expect(second.attempt == 2)
            #expect(try await queue.reschedule(second, worker: "w", runAt: t0 + 500, lastError: "full", refund: true))
            let third = try #require(
                try await queue.claim(worker: "w", limit: 1, now: t0 + 500, leaseMillis: lease).first
            )
            #expect(third.attempt == 2 && third.token == 3)
            #expect(
                try await queue.reschedule(second, worker: "w", runAt: t0, lastError: "stale", refund: true) == false
            )
        }
    }

    @Test(
        "finalizing renders one line per item in input order, error lines apart, and a webhook event",
        arguments: QueueBackend.configured
    )
    func finalize(backend: QueueBackend) async throws {
        try await withQueue(backend) { queue, _ in
            let batch = testBatch(total: 4, now: t0)
            try await queue.insertBatch(batch, items: testItems(4), webhook: true)
            let items = try await queue.claim(worker: "w", limit: 4, now: t0, leaseMillis: lease)
            #expect(try await queue.advance(now: t0).isEmpty)
            let outcomes: [ItemOutcome] = [
                ok(), .response(statusCode: 400, requestID: "r2", body: Array(#"{"error":{"message":"bad"}}"#.utf8)),
                .error(code: "upstream_error", message: "connection refused"), ok("{\n  \"pretty\": 1\n}\n"),
            ]
            for (item, outcome) in zip(items, outcomes) {
                #expect(try await queue.finish(item, worker: "w", outcome: outcome, now: t0 + 1))
            }
            #expect(
                try await queue.batch(id: batch.id, owner: nil)?.counts
                    == BatchRequestCounts(total: 4, completed: 2, failed: 2)
            )
            #expect(try await queue.advance(now: t0 + 2) == [batch.id])
            #expect(try await queue.batch(id: batch.id, owner: nil)?.status == .finalizing)
            let ended = try #require(try await queue.finalize(batchID: batch.id, now: t0 + 3, webhook: true))
            #expect(ended.status == .completed && ended.completedAt == t0 + 3 && ended.finalizingAt == t0 + 2)
            let output = jsonLines(try await queue.fileContent(id: try #require(ended.outputFileID), owner: "owner-a"))
            let errors = jsonLines(try await queue.fileContent(id: try #require(ended.errorFileID), owner: "owner-a"))
            #expect(output.compactMap { $0["custom_id"] as? String } == ["req-1", "req-4"])
            #expect(errors.compactMap { $0["custom_id"] as? String } == ["req-2", "req-3"])
            #expect(output.first?["id"] as? String == BatchIdentifiers.request(batchID: batch.id, line: 1))
            #expect(((output.last?["response"] as? [String: Any])?["body"] as? [String: Any])?["pretty"] as? Int == 1)
            #expect((errors.first?["response"] as? [String: Any])?["status_code"] as? Int == 400)
            #expect((errors.last?["error"] as? [String: Any])?["code"] as? String == "upstream_error")
            let outputID = try #require(ended.outputFileID)
            let file = try #require(try await queue.file(id: outputID, owner: "owner-a"))
            #expect(file.purpose == "batch_output" && file.filename == "\(batch.id)_output.jsonl")
            let hooks = try await queue.claimWebhooks(now: t0 + 3, limit: 10, leaseMillis: lease)
            #expect(hooks.map(\.event) == ["batch.completed"])
            #expect(hooks.first?.payload.contains(batch.id) == true)
            #expect(try await queue.claimWebhooks(now: t0 + 4, limit: 10, leaseMillis: lease).isEmpty)
            let hook = try #require(hooks.first)
            try await queue.webhookAttempted(
                id: hook.id,
                now: t0 + 5,
                delivered: false,
                retryAt: t0 + 100,
                error: "500"
            )
            let again = try await queue.claimWebhooks(now: t0 + 100, limit: 10, leaseMillis: lease)
            #expect(again.map(\.id) == [hook.id] && again.first?.attempts == 1)
            try await queue.webhookAttempted(id: hook.id, now: t0 + 101, delivered: true, retryAt: nil, error: nil)
            #expect(try await queue.claimWebhooks(now: t0 + 1_000_000, limit: 10, leaseMillis: lease).isEmpty)
        }
    }

    @Test(
        "cancel: queued items stop, running ones finish, then the batch is cancelled",
        arguments: QueueBackend.configured
    )
    func cancel(backend: QueueBackend) async throws {
        try await withQueue(backend) { queue, _ in
            let batch = testBatch(total: 3, now: t0)
            try await queue.insertBatch(batch, items: testItems(3), webhook: false)
            let running = try #require(try await queue.claim(worker: "w", limit: 1, now: t0, leaseMillis: lease).first)
            guard case .cancelling(let cancelling) = try await queue.cancel(id: batch.id, owner: "owner-a", now: t0 + 1)
            else {
                Issue.record("not cancelling")
                return
            }
            #expect(cancelling.status == .cancelling && cancelling.cancellingAt == t0 + 1)
            #expect(try await queue.cancel(id: batch.id, owner: "owner-b", now: t0 + 1) == nil)
            #expect(try await queue.claim(worker: "w", limit: 5, now: t0 + 2, leaseMillis: lease).isEmpty)
            #expect(try await queue.advance(now: t0 + 2).isEmpty)
            #expect(try await queue.finish(running, worker: "w", outcome: ok(), now: t0 + 3))
            #expect(try await queue.advance(now: t0 + 4) == [batch.id])
            let ended = try #require(try await queue.finalize(batchID: batch.id, now: t0 + 5, webhook: false))
            #expect(ended.status == .cancelled && ended.cancelledAt == t0 + 5)
            let errors = jsonLines(try await queue.fileContent(id: try #require(ended.errorFileID), owner: "owner-a"))
            #expect(
                errors.compactMap { ($0["error"] as? [String: Any])?["code"] as? String } == [
                    "batch_cancelled", "batch_cancelled",
                ]
            )
            guard case .cancelling(let again) = try await queue.cancel(id: batch.id, owner: "owner-a", now: t0 + 6)
            else {
                Issue.record("cancelling a cancelled batch is not idempotent")
                return
            }
            #expect(again.status == .cancelled)
        }
    }

    @Test(
        "an expired window stops dispatch; what finished is kept, the rest is batch_expired",
        arguments: QueueBackend.configured
    )
    func expiry(backend: QueueBackend) async throws {
        try await withQueue(backend) { queue, _ in
            let batch = testBatch(total: 3, now: t0, windowMillis: 1_000)
            try await queue.insertBatch(batch, items: testItems(3), webhook: true)
            let done = try #require(try await queue.claim(worker: "w", limit: 1, now: t0, leaseMillis: lease).first)
            #expect(try await queue.finish(done, worker: "w", outcome: ok(), now: t0 + 10))
            #expect(try await queue.advance(now: t0 + 999).isEmpty)
            #expect(try await queue.advance(now: t0 + 1_000) == [batch.id])
            #expect(try await queue.claim(worker: "w", limit: 5, now: t0 + 1_001, leaseMillis: lease).isEmpty)
            let ended = try #require(try await queue.finalize(batchID: batch.id, now: t0 + 1_002, webhook: true))
            #expect(ended.status == .expired && ended.expiredAt == t0 + 1_002)
            #expect(
                jsonLines(try await queue.fileContent(id: try #require(ended.outputFileID), owner: "owner-a")).count
                    == 1
            )
            let errors = jsonLines(try await queue.fileContent(id: try #require(ended.errorFileID), owner: "owner-a"))
            #expect(errors.compactMap { $0["custom_id"] as? String } == ["req-2", "req-3"])
            #expect(
                try await queue.claimWebhooks(now: t0 + 2_000, limit: 5, leaseMillis: lease).map(\.event) == [
                    "batch.expired"
                ]
            )
        }
    }

    @Test("listing pages newest first with limit and after", arguments: QueueBackend.configured)
    func listing(backend: QueueBackend) async throws {
        try await withQueue(backend) { queue, _ in
            var ids: [String] = []
            for index in 0..<5 {
                let batch = testBatch(total: 1, now: t0 + Int64(index))
                ids.append(batch.id)
                try await queue.insertBatch(batch, items: testItems(1), webhook: false)
            }
            try await queue.insertBatch(
                testBatch(owner: "other", total: 1, now: t0),
                items: testItems(1),
                webhook: false
            )
            let first = try await queue.batches(owner: "owner-a", limit: 2, after: nil)
            #expect(first.batches.map(\.id) == [ids[4], ids[3]] && first.hasMore)
            let second = try await queue.batches(owner: "owner-a", limit: 10, after: ids[3])
            #expect(second.batches.map(\.id) == [ids[2], ids[1], ids[0]] && !second.hasMore)
            #expect(try await queue.batches(owner: "other", limit: 10, after: ids[3]).batches.isEmpty)
        }
    }

    @Test("SQLite runs in WAL mode and stays sound")
    func sqliteMode() async throws {
        try await withQueue(.sqlite) { _, opened in
            let driver = try #require(opened.sqlite)
            #expect(try await driver.journalMode() == "wal")
            #expect(try await driver.integrityCheck() == "ok")
        }
    }
}

/// Backoff with full jitter, bounded, honouring Retry-After.
@Suite("BatchRetryPolicy")
struct BatchRetryPolicyTests {
    struct Counter: RandomNumberGenerator {
        var state: UInt64 = 42
        mutating func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state
        }
    }

    @Test("delays stay within min(cap, base·2^(n−1)), spread out, and respect Retry-After")
    func bounds() {
        let policy = BatchRetryPolicy(maxAttempts: 4, baseMillis: 100, capMillis: 1_000)
        var generator = Counter()
        for attempt in 1...8 {
            let ceiling = min(1_000, 100 << (attempt - 1))
            let delays = (0..<200).map { _ in policy.delayMillis(after: attempt, using: &generator) }
            #expect(delays.allSatisfy { $0 >= 1 && $0 <= ceiling }, "attempt \(attempt)")
            #expect(Set(delays).count > 20, "jittered")
        }
        #expect(policy.delayMillis(after: 1, retryAfterMillis: 700, using: &generator) >= 700)
        #expect(policy.delayMillis(after: 1, retryAfterMillis: 90_000, using: &generator) <= 1_000)
        #expect(policy.delayMillis(after: 10_000, using: &generator) <= 1_000)
        #expect(policy.allowsRetry(after: 3) && !policy.allowsRetry(after: 4))
        #expect(BatchRetryPolicy.isRetryable(status: 429) && BatchRetryPolicy.isRetryable(status: 503))
        #expect(!BatchRetryPolicy.isRetryable(status: 400) && !BatchRetryPolicy.isRetryable(status: 200))
    }
}
