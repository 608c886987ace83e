import CoreMetrics

extension GatewayMetrics {
    /// The queue operations the batch dispatcher times, the `operation` label of
    /// `gateway_batch_queue_operation_seconds`.
    enum BatchQueueOperation: String, Sendable, CaseIterable {
        /// Claiming due items (one statement for up to 64 items).
        case claim
        /// Writing one item's result (fenced).
        case finish
        /// Handing one item back for a retry, or without counting the attempt.
        case reschedule
        /// Extending this worker's leases (the heartbeat).
        case extendLeases = "extend_leases"
        /// Reaping lapsed leases and moving batches along (expiry, cancellation, completion).
        case maintain
        /// Writing one batch's output and error files and ending it.
        case finalize
    }

    /// One queue operation of the batch dispatcher and how long the database call took, as the gateway
    /// waited for it: `gateway_batch_queue_operation_seconds{operation}` (a histogram: its `_sum` over the
    /// items answered is the queue's time per item).
    func batchQueueOperation(_ operation: BatchQueueOperation, _ duration: Duration) {
        timer("gateway_batch_queue_operation_seconds", [("operation", operation.rawValue)])
            .recordNanoseconds(duration.nanoseconds)
    }

    /// Items claimed by this process: `gateway_batch_items_claimed_total`.
    func batchItemsClaimed(_ count: Int) {
        counter("gateway_batch_items_claimed_total", []).increment(by: count)
    }

    /// An item's answer written by this process: `gateway_batch_items_finished_total{outcome}` (`succeeded`,
    /// `failed`, or `lease_lost` when another claim answers it).
    func batchItemFinished(_ outcome: String) {
        counter("gateway_batch_items_finished_total", [("outcome", outcome)]).increment()
    }
}

extension GatewayMetrics {
    /// Sets the batch queue's gauges, right before rendering: `gateway_batches{status}` (every batch stored,
    /// by status), `gateway_batch_open_items{state}` (items of batches that have not ended, by state: the
    /// backlog is `state="queued"`, progress `succeeded` + `failed`), and `gateway_batch_dispatching_items`
    /// (items this process is sending now). Every status and state is exported, zeros included.
    func update(batchDepth depth: BatchQueueDepth, dispatching: Int) {
        for status in BatchStatus.allCases {
            gauge("gateway_batches", [("status", status.rawValue)]).record(depth.batchesByStatus[status.rawValue] ?? 0)
        }
        for state in ItemState.all {
            gauge("gateway_batch_open_items", [("state", state)]).record(depth.openItemsByState[state] ?? 0)
        }
        gauge("gateway_batch_dispatching_items", []).record(dispatching)
    }
}
