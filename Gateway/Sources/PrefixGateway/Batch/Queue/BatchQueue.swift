/// The durable queue behind the Batch API: files, batches, their items and the webhook outbox, shared by
/// every gateway process that opens the same database.
///
/// Execution is at least once, results exactly once: a worker claims items with a lease (its id and the
/// claim's token, valid until a deadline it keeps extending); ``finish(_:worker:outcome:now:)``
/// writes an item's result only while that lease is still the item's (fencing), so an item whose worker
/// was presumed dead and whose claim went to another worker is answered by one of them only. Output and
/// error files are rendered from the items, one line per item, in the transaction that ends the batch.
///
/// Every time is passed in (milliseconds since 1970), so that tests drive the queue with a clock of their
/// own.
public protocol BatchQueue: Sendable {
    /// Creates the tables if needed.
    func migrate() async throws

    // MARK: Files

    /// Stores a file and its content.
    func insertFile(_ file: BatchFile, content: [UInt8]) async throws
    /// A file of `owner`, or nil (absent, deleted, or another owner's).
    func file(id: String, owner: String) async throws -> BatchFile?
    /// A file's content, or nil.
    func fileContent(id: String, owner: String) async throws -> [UInt8]?
    /// Deletes a file; whether there was one.
    func deleteFile(id: String, owner: String) async throws -> Bool

    // MARK: Batches

    /// Stores a batch and all its items in one transaction (nothing is half-enqueued); a batch that failed
    /// validation is stored with its errors and no items, and its webhook event when `webhook` is set.
    ///
    /// With `idempotency`, the key is recorded in the same transaction, unless the owner's key already names
    /// a batch created at or after `idempotency.notBefore`: then nothing is stored and that batch is returned
    /// (``BatchInsertion/existing(batchID:fingerprint:)``). Concurrent inserts with one key store one batch.
    func insertBatch(
        _ batch: BatchRecord,
        items: [NewBatchItem],
        webhook: Bool,
        idempotency: IdempotencyClaim?
    ) async throws -> BatchInsertion
    /// The batch the owner's `Idempotency-Key` created at or after `notBefore`, or nil.
    func idempotentBatch(owner: String, key: String, notBefore: Int64) async throws -> BatchInsertion?
    /// A batch with its request counts; `owner` nil: any owner's (workers).
    func batch(id: String, owner: String?) async throws -> BatchRecord?
    /// `owner`'s batches, newest first, after the batch `after` (a cursor); and whether more follow.
    func batches(owner: String, limit: Int, after: String?) async throws -> (batches: [BatchRecord], hasMore: Bool)
    /// Starts cancelling a batch: queued items are cancelled now, running ones finish; nil when there is
    /// no such batch of `owner`.
    func cancel(id: String, owner: String, now: Int64) async throws -> CancelResult?

    // MARK: Workers

    /// Claims up to `limit` due items for `worker`, leasing them until `now + leaseMillis`.
    func claim(worker: String, limit: Int, now: Int64, leaseMillis: Int64) async throws -> [ClaimedItem]
    /// Extends every lease `worker` holds to `until`; returns how many.
    @discardableResult
    func extendLeases(worker: String, until: Int64) async throws -> Int
    /// Writes an item's result, once: only while `worker` still holds the claim (its token). Returns false when
    /// the lease was lost (the result is dropped; another claim answers the item).
    func finish(_ item: ClaimedItem, worker: String, outcome: ItemOutcome, now: Int64) async throws -> Bool
    /// Hands an item back for another attempt at `runAt` (a retry), or without counting this attempt when
    /// `refund` (it never reached an engine). Fenced like ``finish(_:worker:outcome:now:)``.
    func reschedule(
        _ item: ClaimedItem,
        worker: String,
        runAt: Int64,
        lastError: String,
        refund: Bool
    ) async throws
        -> Bool
    /// Returns items whose lease expired (their worker died or stalled) to the queue, or fails them when they
    /// used `maxAttempts`; returns how many.
    func reap(now: Int64, maxAttempts: Int) async throws -> Int
    /// Moves batches along: expired windows, cancellations and batches with no open item go to
    /// `finalizing`. Returns the batches ready to finalize (no queued or running item left).
    func advance(now: Int64) async throws -> [String]
    /// Writes a finalizing batch's output and error files and ends it (`completed`, `expired` or
    /// `cancelled`), with its webhook event when `webhook` is set, in one transaction; nil when another
    /// process did it first or items are still open.
    func finalize(batchID: String, now: Int64, webhook: Bool) async throws -> BatchRecord?

    // MARK: Webhooks

    /// Claims due webhook deliveries, hiding them from other claimers until `now + leaseMillis`.
    func claimWebhooks(now: Int64, limit: Int, leaseMillis: Int64) async throws -> [WebhookDelivery]
    /// Records a delivery's outcome: delivered, retry at `retryAt`, or abandoned (both nil).
    func webhookAttempted(id: String, now: Int64, delivered: Bool, retryAt: Int64?, error: String?) async throws

    // MARK: Observation

    /// Batches by status, and the items of open batches (not yet ended) by state: the queue's depth.
    func depth() async throws -> BatchQueueDepth

    /// Closes the database.
    func close() async
}

extension BatchQueue {
    /// Stores a batch and all its items in one transaction, without an idempotency key.
    public func insertBatch(_ batch: BatchRecord, items: [NewBatchItem], webhook: Bool) async throws {
        _ = try await insertBatch(batch, items: items, webhook: webhook, idempotency: nil)
    }
}

/// What ``BatchQueue/cancel(id:owner:now:)`` found.
public enum CancelResult: Sendable, Equatable {
    /// The batch is cancelling (now or already) or cancelled.
    case cancelling(BatchRecord)
    /// The batch had already ended otherwise, or is finalizing: nothing to cancel.
    case notCancellable(BatchRecord)
}
