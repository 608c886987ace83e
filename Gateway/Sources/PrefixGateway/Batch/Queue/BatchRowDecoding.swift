import Foundation

/// Rows to values, named after the columns of ``BatchSchema``.
enum BatchRowDecoding {
    static let fileColumns = "id, owner, purpose, filename, bytes, created_at"

    static func file(_ row: SQLRow) throws -> BatchFile {
        guard let id = row.text("id"), let owner = row.text("owner"), let purpose = row.text("purpose"),
            let filename = row.text("filename"), let bytes = row.int("bytes"), let createdAt = row.int("created_at")
        else { throw BatchStoreError("gw_files: a row misses a required column") }
        return BatchFile(
            id: id,
            owner: owner,
            purpose: purpose,
            filename: filename,
            bytes: Int(bytes),
            createdAt: createdAt
        )
    }

    /// A `gw_batches` row (`SELECT *`) with its counts.
    static func batch(_ row: SQLRow, counts: BatchRequestCounts) throws -> BatchRecord {
        guard let id = row.text("id"), let owner = row.text("owner"), let endpoint = row.text("endpoint"),
            let input = row.text("input_file_id"), let window = row.text("completion_window"),
            let statusText = row.text("status"), let status = BatchStatus(rawValue: statusText),
            let createdAt = row.int("created_at")
        else { throw BatchStoreError("gw_batches: a row misses a required column or has an unknown status") }
        var errors: [BatchLineError] = []
        if let text = row.text("errors") {
            errors = (try? JSONDecoder().decode([BatchLineError].self, from: Data(text.utf8))) ?? []
        }
        return BatchRecord(
            id: id,
            owner: owner,
            endpoint: endpoint,
            inputFileID: input,
            completionWindow: window,
            status: status,
            finalStatus: row.text("final_status").flatMap(BatchStatus.init(rawValue:)),
            metadata: row.text("metadata"),
            errors: errors,
            outputFileID: row.text("output_file_id"),
            errorFileID: row.text("error_file_id"),
            counts: counts,
            createdAt: createdAt,
            inProgressAt: row.int("in_progress_at"),
            expiresAt: row.int("expires_at"),
            finalizingAt: row.int("finalizing_at"),
            completedAt: row.int("completed_at"),
            failedAt: row.int("failed_at"),
            expiredAt: row.int("expired_at"),
            cancellingAt: row.int("cancelling_at"),
            cancelledAt: row.int("cancelled_at")
        )
    }

    /// A batch's counts from its items; total from the batch row.
    static func counts(_ executor: any SQLExecutor, batchID: String, total: Int) throws -> BatchRequestCounts {
        let rows = try executor.query(
            "SELECT state, COUNT(*) AS n FROM gw_items WHERE batch_id = ? GROUP BY state",
            [.text(batchID)]
        )
        var counts = BatchRequestCounts(total: total, completed: 0, failed: 0)
        for row in rows {
            let n = Int(row.int("n") ?? 0)
            switch row.text("state") {
            case ItemState.succeeded: counts.completed += n
            case ItemState.failed: counts.failed += n
            default: break
            }
        }
        return counts
    }

    /// A batch row by id (`FOR UPDATE` where the dialect locks), with its counts.
    static func loadBatch(
        _ executor: any SQLExecutor,
        id: String,
        owner: String?,
        lock: String = ""
    ) throws -> BatchRecord? {
        var sql = "SELECT * FROM gw_batches WHERE id = ?"
        var arguments: [SQLValue] = [.text(id)]
        if let owner {
            sql += " AND owner = ?"
            arguments.append(.text(owner))
        }
        guard let row = try executor.query(sql + " " + lock, arguments).first else { return nil }
        let counts = try counts(executor, batchID: id, total: Int(row.int("total") ?? 0))
        return try batch(row, counts: counts)
    }

    static func claimed(_ row: SQLRow) throws -> ClaimedItem {
        guard let batchID = row.text("batch_id"), let line = row.int("line"), let customID = row.text("custom_id"),
            let endpoint = row.text("endpoint"), let model = row.text("model"), let body = row.bytes("body"),
            let attempt = row.int("attempt"), let token = row.int("claim_token")
        else { throw BatchStoreError("gw_items: a claimed row misses a required column") }
        return ClaimedItem(
            batchID: batchID,
            line: Int(line),
            customID: customID,
            endpoint: endpoint,
            model: model,
            body: body,
            attempt: Int(attempt),
            token: token
        )
    }
}

/// The states of an item (`gw_items.state`).
enum ItemState {
    /// Waiting for a worker (also after a retry is scheduled: `run_at` says when).
    static let queued = "queued"
    /// Claimed: `lease_owner` and `attempt` hold the lease until `lease_expires_at`.
    static let running = "running"
    /// Answered 2xx: the output file.
    static let succeeded = "succeeded"
    /// Answered otherwise or not at all after the last attempt: the error file.
    static let failed = "failed"
    /// Not run: the batch was cancelled (error file, `batch_cancelled`).
    static let cancelled = "cancelled"
    /// Not run: the completion window ended (error file, `batch_expired`).
    static let expired = "expired"
    /// Every state.
    static let all = [queued, running, succeeded, failed, cancelled, expired]
}
