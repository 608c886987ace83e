extension SQLBatchQueue {
    public func finalize(batchID: String, now: Int64, webhook: Bool) async throws -> BatchRecord? {
        let lock = dialect.forUpdate
        return try await driver.write { executor in
            guard let batch = try BatchRowDecoding.loadBatch(executor, id: batchID, owner: nil, lock: lock),
                batch.status == .finalizing, let final = batch.finalStatus
            else { return nil }
            let open = try executor.query(
                "SELECT 1 AS one FROM gw_items WHERE batch_id = ? AND state IN ('queued', 'running') LIMIT 1",
                [.text(batchID)]
            )
            guard open.isEmpty else { return nil }
            let rows = try executor.query(
                """
                SELECT line, custom_id, state, status_code, request_id, response, error_code, error_message
                FROM gw_items WHERE batch_id = ? ORDER BY line
                """,
                [.text(batchID)]
            )
            let files = BatchResultRenderer.render(batchID: batchID, rows: rows)
            var outputID: String?
            var errorID: String?
            if !files.output.isEmpty {
                let id = BatchIdentifiers.file()
                try Self.insertFile(
                    executor,
                    Self.resultFile(id, batch, "output", files.output, now),
                    content: files.output
                )
                outputID = id
            }
            if !files.errors.isEmpty {
                let id = BatchIdentifiers.file()
                try Self.insertFile(
                    executor,
                    Self.resultFile(id, batch, "error", files.errors, now),
                    content: files.errors
                )
                errorID = id
            }
            let timeColumn = "\(final.rawValue)_at"  // completed_at, expired_at, cancelled_at: from the enum
            try executor.execute(
                """
                UPDATE gw_batches SET status = ?, \(timeColumn) = ?, output_file_id = ?, error_file_id = ?
                WHERE id = ? AND status = 'finalizing'
                """,
                [.text(final.rawValue), .integer(now), .text(outputID), .text(errorID), .text(batchID)]
            )
            guard let ended = try BatchRowDecoding.loadBatch(executor, id: batchID, owner: nil) else { return nil }
            if webhook { try Self.insertWebhook(executor, batch: ended, now: now) }
            return ended
        }
    }

    private static func resultFile(
        _ id: String,
        _ batch: BatchRecord,
        _ kind: String,
        _ content: [UInt8],
        _ now: Int64
    ) -> BatchFile {
        BatchFile(
            id: id,
            owner: batch.owner,
            purpose: "batch_output",
            filename: "\(batch.id)_\(kind).jsonl",
            bytes: content.count,
            createdAt: now
        )
    }
}
