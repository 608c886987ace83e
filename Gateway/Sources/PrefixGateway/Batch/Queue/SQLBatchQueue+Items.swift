extension SQLBatchQueue {
    public func claim(worker: String, limit: Int, now: Int64, leaseMillis: Int64) async throws -> [ClaimedItem] {
        guard limit > 0 else { return [] }
        let skipLocked = dialect.skipLocked
        let rows = try await driver.write { executor in
            try executor.query(
                """
                UPDATE gw_items SET state = 'running', attempt = attempt + 1, claim_token = claim_token + 1,
                  lease_owner = ?, lease_expires_at = ?
                WHERE (batch_id, line) IN (
                  SELECT batch_id, line FROM gw_items WHERE state = 'queued' AND run_at <= ?
                  ORDER BY run_at, batch_id, line LIMIT ? \(skipLocked))
                RETURNING batch_id, line, custom_id, endpoint, model, body, attempt, claim_token
                """,
                [.text(worker), .integer(now + leaseMillis), .integer(now), .integer(Int64(limit))]
            )
        }
        return try rows.map(BatchRowDecoding.claimed).sorted { ($0.batchID, $0.line) < ($1.batchID, $1.line) }
    }

    public func extendLeases(worker: String, until: Int64) async throws -> Int {
        try await driver.write { executor in
            try executor.execute(
                "UPDATE gw_items SET lease_expires_at = ? WHERE lease_owner = ? AND state = 'running'",
                [.integer(until), .text(worker)]
            )
        }
    }

    public func finish(_ item: ClaimedItem, worker: String, outcome: ItemOutcome, now: Int64) async throws -> Bool {
        var state = ItemState.failed
        var arguments: [SQLValue]
        switch outcome {
        case .response(let statusCode, let requestID, let body):
            if (200..<300).contains(statusCode) { state = ItemState.succeeded }
            arguments = [.text(state), .integer(Int64(statusCode)), .text(requestID), .blob(body), .null, .null]
        case .error(let code, let message):
            arguments = [.text(state), .null, .null, .null, .text(code), .text(message)]
        }
        arguments += [
            .integer(now), .text(item.batchID), .integer(Int64(item.line)), .text(worker), .integer(item.token),
        ]
        return try await driver.write { [arguments] executor in
            try executor.execute(
                """
                UPDATE gw_items SET state = ?, status_code = ?, request_id = ?, response = ?, error_code = ?,
                  error_message = ?, finished_at = ?, lease_owner = NULL, lease_expires_at = NULL
                WHERE batch_id = ? AND line = ? AND state = 'running' AND lease_owner = ? AND claim_token = ?
                """,
                arguments
            ) == 1
        }
    }

    public func reschedule(
        _ item: ClaimedItem,
        worker: String,
        runAt: Int64,
        lastError: String,
        refund: Bool
    ) async throws -> Bool {
        try await driver.write { executor in
            try executor.execute(
                """
                UPDATE gw_items SET state = 'queued', run_at = ?, last_error = ?, attempt = attempt - ?,
                  lease_owner = NULL, lease_expires_at = NULL
                WHERE batch_id = ? AND line = ? AND state = 'running' AND lease_owner = ? AND claim_token = ?
                """,
                [
                    .integer(runAt), .text(lastError), .integer(refund ? 1 : 0), .text(item.batchID),
                    .integer(Int64(item.line)), .text(worker), .integer(item.token),
                ]
            ) == 1
        }
    }

    public func reap(now: Int64, maxAttempts: Int) async throws -> Int {
        try await driver.write { executor in
            let failed = try executor.execute(
                """
                UPDATE gw_items SET state = 'failed', error_code = 'attempts_exhausted',
                  error_message = 'the worker running the last allowed attempt stopped answering (lease expired)',
                  finished_at = ?, lease_owner = NULL, lease_expires_at = NULL
                WHERE state = 'running' AND lease_expires_at < ? AND attempt >= ?
                """,
                [.integer(now), .integer(now), .integer(Int64(maxAttempts))]
            )
            let requeued = try executor.execute(
                """
                UPDATE gw_items SET state = 'queued', run_at = ?, last_error = 'lease expired: worker lost',
                  lease_owner = NULL, lease_expires_at = NULL
                WHERE state = 'running' AND lease_expires_at < ?
                """,
                [.integer(now), .integer(now)]
            )
            return failed + requeued
        }
    }

    public func advance(now: Int64) async throws -> [String] {
        try await driver.write { executor in
            // Expired windows: queued items will not run; running ones finish, then the batch is finalized.
            let expired = try executor.query(
                "SELECT id FROM gw_batches WHERE status IN ('validating', 'in_progress') AND expires_at <= ?",
                [.integer(now)]
            ).compactMap { $0.text("id") }
            for id in expired {
                try executor.execute(
                    """
                    UPDATE gw_batches SET status = 'finalizing', final_status = 'expired', finalizing_at = ?
                    WHERE id = ?
                    """,
                    [.integer(now), .text(id)]
                )
            }
            // Items returned to the queue (reaped) after their batch stopped dispatching: not run either.
            let stopped = try executor.query(
                """
                SELECT id, final_status FROM gw_batches
                WHERE status IN ('cancelling', 'finalizing') AND final_status IN ('expired', 'cancelled')
                """,
                []
            )
            for row in stopped {
                guard let id = row.text("id"), let final = row.text("final_status") else { continue }
                try executor.execute(
                    "UPDATE gw_items SET state = ?, finished_at = ? WHERE batch_id = ? AND state = 'queued'",
                    [.text(final), .integer(now), .text(id)]
                )
            }
            let open = "SELECT 1 FROM gw_items i WHERE i.batch_id = gw_batches.id AND i.state IN ('queued', 'running')"
            try executor.execute(
                """
                UPDATE gw_batches SET status = 'finalizing', final_status = 'completed', finalizing_at = ?
                WHERE status = 'in_progress' AND NOT EXISTS (\(open))
                """,
                [.integer(now)]
            )
            try executor.execute(
                """
                UPDATE gw_batches SET status = 'finalizing', finalizing_at = ?
                WHERE status = 'cancelling' AND NOT EXISTS (\(open))
                """,
                [.integer(now)]
            )
            return try executor.query(
                "SELECT id FROM gw_batches WHERE status = 'finalizing' AND NOT EXISTS (\(open)) ORDER BY id",
                []
            ).compactMap { $0.text("id") }
        }
    }
}
