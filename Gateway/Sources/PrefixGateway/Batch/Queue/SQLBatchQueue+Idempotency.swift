/// `Idempotency-Key` on batch creation: `gw_batch_keys` maps (owner, key) to the batch it created.
extension SQLBatchQueue {
    public func idempotentBatch(owner: String, key: String, notBefore: Int64) async throws -> BatchInsertion? {
        try await driver.read { executor in
            try Self.existingKey(executor, owner: owner, key: key, notBefore: notBefore)
        }
    }

    /// Records `claim` for `batchID` inside the inserting transaction; returns the batch the key already
    /// names (nothing recorded), or nil when the key is now the new batch's. An expired record is replaced.
    ///
    /// `INSERT … ON CONFLICT DO NOTHING` makes concurrent creators agree: on PostgreSQL the second waits for
    /// the first to commit, inserts nothing, and then reads the first one's row; SQLite has one writer.
    static func recordKey(
        _ executor: any SQLExecutor,
        _ claim: IdempotencyClaim,
        owner: String,
        batchID: String,
        now: Int64
    ) throws -> BatchInsertion? {
        try executor.execute(
            "DELETE FROM gw_batch_keys WHERE owner = ? AND idempotency_key = ? AND created_at < ?",
            [.text(owner), .text(claim.key), .integer(claim.notBefore)]
        )
        let inserted = try executor.execute(
            """
            INSERT INTO gw_batch_keys (owner, idempotency_key, fingerprint, batch_id, created_at)
            VALUES (?, ?, ?, ?, ?) ON CONFLICT (owner, idempotency_key) DO NOTHING
            """,
            [.text(owner), .text(claim.key), .text(claim.fingerprint), .text(batchID), .integer(now)]
        )
        guard inserted == 0 else { return nil }
        return try existingKey(executor, owner: owner, key: claim.key, notBefore: .min)
    }

    private static func existingKey(
        _ executor: any SQLExecutor,
        owner: String,
        key: String,
        notBefore: Int64
    ) throws -> BatchInsertion? {
        let row = try executor.query(
            """
            SELECT batch_id, fingerprint FROM gw_batch_keys
            WHERE owner = ? AND idempotency_key = ? AND created_at >= ?
            """,
            [.text(owner), .text(key), .integer(notBefore)]
        ).first
        guard let row, let batchID = row.text("batch_id"), let fingerprint = row.text("fingerprint") else {
            return nil
        }
        return .existing(batchID: batchID, fingerprint: fingerprint)
    }
}
