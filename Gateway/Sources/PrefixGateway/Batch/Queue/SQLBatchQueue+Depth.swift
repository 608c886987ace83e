/// The queue's depth for `/metrics`: two grouped counts, over indexes (`gw_batches_status`,
/// `gw_items_batch_state`), and over the items of open batches only, so that the cost does not grow with
/// the history kept.
extension SQLBatchQueue {
    public func depth() async throws -> BatchQueueDepth {
        try await driver.read { executor in
            func counts(_ sql: String) throws -> [String: Int] {
                var found: [String: Int] = [:]
                for row in try executor.query(sql, []) {
                    if let key = row.text("k") { found[key] = Int(row.int("n") ?? 0) }
                }
                return found
            }
            let batches = try counts("SELECT status AS k, COUNT(*) AS n FROM gw_batches GROUP BY status")
            let items = try counts(
                """
                SELECT i.state AS k, COUNT(*) AS n FROM gw_items i JOIN gw_batches b ON b.id = i.batch_id
                WHERE b.status IN ('validating', 'in_progress', 'finalizing', 'cancelling') GROUP BY i.state
                """
            )
            return BatchQueueDepth(batchesByStatus: batches, openItemsByState: items)
        }
    }
}
