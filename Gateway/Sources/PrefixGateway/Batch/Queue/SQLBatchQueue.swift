import Foundation

/// ``BatchQueue`` in SQL, the same statements on SQLite (``SQLiteDriver``) and PostgreSQL
/// (``PostgresDriver``): only the claim's `FOR UPDATE SKIP LOCKED` and row locks differ.
public final class SQLBatchQueue: BatchQueue {
    /// The database.
    public let driver: any SQLDriver
    var dialect: SQLDialect { driver.dialect }

    /// A queue on `driver`; call ``migrate()`` before use.
    public init(driver: any SQLDriver) { self.driver = driver }

    public func migrate() async throws {
        let statements = BatchSchema.statements(dialect)
        let dialect = self.dialect
        try await driver.write { executor in
            if dialect == .postgres {  // two gateways starting together must not race on CREATE TABLE
                _ = try executor.query("SELECT pg_advisory_xact_lock(7411001)", [])
            }
            for statement in statements { try executor.execute(statement, []) }
        }
    }

    public func close() async { await driver.close() }

    // MARK: Files

    public func insertFile(_ file: BatchFile, content: [UInt8]) async throws {
        try await driver.write { executor in
            try Self.insertFile(executor, file, content: content)
        }
    }

    static func insertFile(_ executor: any SQLExecutor, _ file: BatchFile, content: [UInt8]) throws {
        try executor.execute(
            """
            INSERT INTO gw_files (id, owner, purpose, filename, bytes, created_at, content)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .text(file.id), .text(file.owner), .text(file.purpose), .text(file.filename),
                .integer(Int64(file.bytes)), .integer(file.createdAt), .blob(content),
            ]
        )
    }

    public func file(id: String, owner: String) async throws -> BatchFile? {
        try await driver.read { executor in
            try executor.query(
                "SELECT \(BatchRowDecoding.fileColumns) FROM gw_files WHERE id = ? AND owner = ?",
                [.text(id), .text(owner)]
            ).first.map(BatchRowDecoding.file)
        }
    }

    public func fileContent(id: String, owner: String) async throws -> [UInt8]? {
        try await driver.read { executor in
            try executor.query(
                "SELECT content FROM gw_files WHERE id = ? AND owner = ?",
                [.text(id), .text(owner)]
            ).first?.bytes("content")
        }
    }

    public func deleteFile(id: String, owner: String) async throws -> Bool {
        try await driver.write { executor in
            try executor.execute("DELETE FROM gw_files WHERE id = ? AND owner = ?", [.text(id), .text(owner)]) == 1
        }
    }

    // MARK: Batches

    public func insertBatch(
        _ batch: BatchRecord,
        items: [NewBatchItem],
        webhook: Bool,
        idempotency: IdempotencyClaim?
    ) async throws -> BatchInsertion {
        try await driver.write { executor in
            if let idempotency,
                let existing = try Self.recordKey(
                    executor,
                    idempotency,
                    owner: batch.owner,
                    batchID: batch.id,
                    now: batch.createdAt
                )
            {
                return existing
            }
            try Self.insertBatchRow(executor, batch)
            let columns = 7
            let chunk = 500
            var start = 0
            while start < items.count {
                let slice = items[start..<min(items.count, start + chunk)]
                let placeholders = Array(repeating: "(?, ?, ?, ?, ?, ?, ?, 'queued', 0)", count: slice.count)
                var arguments: [SQLValue] = []
                arguments.reserveCapacity(slice.count * columns)
                for item in slice {
                    arguments += [
                        .text(batch.id), .integer(Int64(item.line)), .text(item.customID), .text(batch.endpoint),
                        .text(item.model), .blob(item.body), .integer(batch.createdAt),
                    ]
                }
                try executor.execute(
                    """
                    INSERT INTO gw_items (batch_id, line, custom_id, endpoint, model, body, run_at, state, attempt)
                    VALUES \(placeholders.joined(separator: ", "))
                    """,
                    arguments
                )
                start += chunk
            }
            if webhook, batch.status.isTerminal {
                try Self.insertWebhook(executor, batch: batch, now: batch.createdAt)
            }
            return .inserted
        }
    }

    private static func insertBatchRow(_ executor: any SQLExecutor, _ batch: BatchRecord) throws {
        let errors: SQLValue
        if batch.errors.isEmpty {
            errors = .null
        } else {
            let data = try JSONEncoder().encode(batch.errors)
            errors = .text(String(decoding: data, as: UTF8.self))
        }
        try executor.execute(
            """
            INSERT INTO gw_batches (id, owner, endpoint, input_file_id, completion_window, status, final_status,
              metadata, errors, total, created_at, in_progress_at, expires_at, failed_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .text(batch.id), .text(batch.owner), .text(batch.endpoint), .text(batch.inputFileID),
                .text(batch.completionWindow), .text(batch.status.rawValue), .text(batch.finalStatus?.rawValue),
                .text(batch.metadata), errors, .integer(Int64(batch.counts.total)), .integer(batch.createdAt),
                .integer(batch.inProgressAt), .integer(batch.expiresAt), .integer(batch.failedAt),
            ]
        )
    }

    public func batch(id: String, owner: String?) async throws -> BatchRecord? {
        try await driver.read { executor in try BatchRowDecoding.loadBatch(executor, id: id, owner: owner) }
    }

    public func batches(
        owner: String,
        limit: Int,
        after: String?
    ) async throws -> (batches: [BatchRecord], hasMore: Bool) {
        try await driver.read { executor in
            var sql = "SELECT * FROM gw_batches WHERE owner = ?"
            var arguments: [SQLValue] = [.text(owner)]
            if let after {
                guard
                    let cursor = try executor.query(
                        "SELECT created_at FROM gw_batches WHERE id = ? AND owner = ?",
                        [.text(after), .text(owner)]
                    ).first?.int("created_at")
                else { return ([], false) }
                sql += " AND (created_at < ? OR (created_at = ? AND id < ?))"
                arguments += [.integer(cursor), .integer(cursor), .text(after)]
            }
            sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
            arguments.append(.integer(Int64(limit + 1)))
            let rows = try executor.query(sql, arguments)
            var page: [BatchRecord] = []
            for row in rows.prefix(limit) {
                guard let id = row.text("id") else { continue }
                let counts = try BatchRowDecoding.counts(executor, batchID: id, total: Int(row.int("total") ?? 0))
                page.append(try BatchRowDecoding.batch(row, counts: counts))
            }
            return (page, rows.count > limit)
        }
    }

    public func cancel(id: String, owner: String, now: Int64) async throws -> CancelResult? {
        let lock = dialect.forUpdate
        return try await driver.write { executor in
            guard let batch = try BatchRowDecoding.loadBatch(executor, id: id, owner: owner, lock: lock) else {
                return nil
            }
            switch batch.status {
            case .cancelling, .cancelled:
                return .cancelling(batch)
            case .validating, .inProgress:
                try executor.execute(
                    """
                    UPDATE gw_batches SET status = 'cancelling', final_status = 'cancelled', cancelling_at = ?
                    WHERE id = ?
                    """,
                    [.integer(now), .text(id)]
                )
                try executor.execute(
                    "UPDATE gw_items SET state = 'cancelled', finished_at = ? WHERE batch_id = ? AND state = 'queued'",
                    [.integer(now), .text(id)]
                )
                guard let updated = try BatchRowDecoding.loadBatch(executor, id: id, owner: owner) else { return nil }
                return .cancelling(updated)
            case .failed, .finalizing, .completed, .expired:
                return .notCancellable(batch)
            }
        }
    }

    static func insertWebhook(_ executor: any SQLExecutor, batch: BatchRecord, now: Int64) throws {
        let event = "batch.\(batch.status.rawValue)"
        let id = "evt_" + BatchIdentifiers.random()
        let payload = WebhookPayload(id: id, type: event, createdAt: now / 1_000, data: .init(id: batch.id))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let text = String(decoding: try encoder.encode(payload), as: UTF8.self)
        try executor.execute(
            """
            INSERT INTO gw_webhooks (id, batch_id, event, payload, attempts, created_at, next_attempt_at)
            VALUES (?, ?, ?, ?, 0, ?, ?)
            """,
            [.text(id), .text(batch.id), .text(event), .text(text), .integer(now), .integer(now)]
        )
    }
}

/// The body of a batch webhook, OpenAI's shape: `{"id", "type", "created_at", "data": {"id"}}`.
struct WebhookPayload: Codable, Sendable {
    struct Data: Codable, Sendable { var id: String }
    var id: String
    var type: String
    var createdAt: Int64
    var data: Data
    var object = "event"

    enum CodingKeys: String, CodingKey {
        case id, type, data, object
        case createdAt = "created_at"
    }
}
