extension SQLBatchQueue {
    public func claimWebhooks(now: Int64, limit: Int, leaseMillis: Int64) async throws -> [WebhookDelivery] {
        let skipLocked = dialect.skipLocked
        let rows = try await driver.write { executor in
            try executor.query(
                """
                UPDATE gw_webhooks SET next_attempt_at = ?
                WHERE id IN (
                  SELECT id FROM gw_webhooks
                  WHERE delivered_at IS NULL AND abandoned_at IS NULL AND next_attempt_at <= ?
                  ORDER BY next_attempt_at LIMIT ? \(skipLocked))
                RETURNING id, batch_id, event, payload, attempts, created_at
                """,
                [.integer(now + leaseMillis), .integer(now), .integer(Int64(limit))]
            )
        }
        return try rows.map { row in
            guard let id = row.text("id"), let batchID = row.text("batch_id"), let event = row.text("event"),
                let payload = row.text("payload"), let attempts = row.int("attempts"),
                let createdAt = row.int("created_at")
            else { throw BatchStoreError("gw_webhooks: a claimed row misses a required column") }
            return WebhookDelivery(
                id: id,
                batchID: batchID,
                event: event,
                payload: payload,
                attempts: Int(attempts),
                createdAt: createdAt
            )
        }
    }

    public func webhookAttempted(
        id: String,
        now: Int64,
        delivered: Bool,
        retryAt: Int64?,
        error: String?
    ) async throws {
        _ = try await driver.write { executor in
            if delivered {
                return try executor.execute(
                    "UPDATE gw_webhooks SET attempts = attempts + 1, delivered_at = ? WHERE id = ?",
                    [.integer(now), .text(id)]
                )
            } else if let retryAt {
                return try executor.execute(
                    "UPDATE gw_webhooks SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?",
                    [.integer(retryAt), .text(error), .text(id)]
                )
            } else {
                return try executor.execute(
                    "UPDATE gw_webhooks SET attempts = attempts + 1, abandoned_at = ?, last_error = ? WHERE id = ?",
                    [.integer(now), .text(error), .text(id)]
                )
            }
        }
    }
}
