/// A batch's status, as OpenAI names them.
public enum BatchStatus: String, Sendable, Codable, CaseIterable {
    case validating
    case failed
    case inProgress = "in_progress"
    case finalizing
    case completed
    case expired
    case cancelling
    case cancelled

    /// Whether the batch has ended (its files written, nothing more will change).
    public var isTerminal: Bool { self == .failed || self == .completed || self == .expired || self == .cancelled }
}

/// A stored file's description (its content is read separately).
public struct BatchFile: Sendable, Equatable {
    /// `file-…`.
    public var id: String
    /// The owner: a digest of the API key that created it (or of the batch's).
    public var owner: String
    /// `batch` for uploads, `batch_output` for generated files.
    public var purpose: String
    /// The uploaded name, or `<batch id>_output.jsonl` / `_error.jsonl`.
    public var filename: String
    /// The content's size in bytes.
    public var bytes: Int
    /// Milliseconds since 1970.
    public var createdAt: Int64
}

/// A validation error of an input file, in OpenAI's `errors.data[]` shape.
public struct BatchLineError: Error, Sendable, Codable, Equatable {
    /// `invalid_json_line`, `duplicate_custom_id`, `mismatched_endpoint`, `model_not_found`…
    public var code: String
    /// What is wrong, naming the field.
    public var message: String
    /// The offending field, when one is.
    public var param: String?
    /// The 1-based line of the input file.
    public var line: Int?

    /// An error.
    public init(code: String, message: String, param: String? = nil, line: Int? = nil) {
        self.code = code
        self.message = message
        self.param = param
        self.line = line
    }
}

/// `request_counts`.
public struct BatchRequestCounts: Sendable, Equatable, Codable {
    /// Lines of the input file.
    public var total: Int
    /// Lines answered with a 2xx response.
    public var completed: Int
    /// Lines that failed (an error response after the last attempt, or no response).
    public var failed: Int
}

/// A batch as stored, with its request counts.
public struct BatchRecord: Sendable, Equatable {
    public var id: String
    public var owner: String
    public var endpoint: String
    public var inputFileID: String
    public var completionWindow: String
    public var status: BatchStatus
    /// While `finalizing`: the status it ends in (`completed`, `expired` or `cancelled`).
    public var finalStatus: BatchStatus?
    /// The `metadata` object as JSON text, or nil.
    public var metadata: String?
    public var errors: [BatchLineError]
    public var outputFileID: String?
    public var errorFileID: String?
    public var counts: BatchRequestCounts
    public var createdAt: Int64
    public var inProgressAt: Int64?
    public var expiresAt: Int64?
    public var finalizingAt: Int64?
    public var completedAt: Int64?
    public var failedAt: Int64?
    public var expiredAt: Int64?
    public var cancellingAt: Int64?
    public var cancelledAt: Int64?
}

/// One validated input line, ready to enqueue.
public struct NewBatchItem: Sendable, Equatable {
    /// The 1-based line of the input file.
    public var line: Int
    public var customID: String
    public var model: String
    /// The body sent upstream: the line's `body` with `stream: false` and the batch `priority` set.
    public var body: [UInt8]

    public init(line: Int, customID: String, model: String, body: [UInt8]) {
        self.line = line
        self.customID = customID
        self.model = model
        self.body = body
    }
}

/// An item a worker holds: its lease is (worker, token), until the lease deadline.
public struct ClaimedItem: Sendable, Equatable {
    public var batchID: String
    public var line: Int
    public var customID: String
    public var endpoint: String
    public var model: String
    public var body: [UInt8]
    /// This attempt's number, from 1 (a refunded attempt is not counted).
    public var attempt: Int
    /// The claim's fencing token (with the worker's id): incremented by every claim, never reused.
    public var token: Int64
}

/// How an attempt of an item ended, for ``BatchQueue/finish(_:worker:outcome:now:)``.
public enum ItemOutcome: Sendable, Equatable {
    /// The engine answered: a 2xx status goes to the output file, any other to the error file.
    case response(statusCode: Int, requestID: String, body: [UInt8])
    /// No usable answer (connection failures exhausted the attempts, an unknown model…): the error file.
    case error(code: String, message: String)

    /// Whether the item goes to the output file (a 2xx answer) rather than the error file.
    public var isSuccess: Bool {
        if case .response(let statusCode, _, _) = self { return (200..<300).contains(statusCode) }
        return false
    }
}

/// A webhook delivery taken from the outbox.
public struct WebhookDelivery: Sendable, Equatable {
    /// The `webhook-id`, the same on every retry.
    public var id: String
    public var batchID: String
    /// `batch.completed`, `batch.failed`, `batch.expired`, `batch.cancelled`.
    public var event: String
    /// The JSON body.
    public var payload: String
    /// Deliveries tried before this one.
    public var attempts: Int
    /// When the event was written, milliseconds since 1970.
    public var createdAt: Int64
}

/// An `Idempotency-Key` a batch is created under.
public struct IdempotencyClaim: Sendable, Equatable {
    /// The client's key.
    public var key: String
    /// A digest of the request that creates the batch: the same key with another request is refused.
    public var fingerprint: String
    /// Keys recorded before this time (milliseconds since 1970) have expired: the key may name a new batch.
    public var notBefore: Int64

    /// Creates a claim.
    public init(key: String, fingerprint: String, notBefore: Int64) {
        self.key = key
        self.fingerprint = fingerprint
        self.notBefore = notBefore
    }
}

/// How ``BatchQueue/insertBatch(_:items:webhook:idempotency:)`` went.
public enum BatchInsertion: Sendable, Equatable {
    /// The batch was stored.
    case inserted
    /// The idempotency key already names a batch: nothing was stored. `fingerprint` is the digest of the
    /// request that created it.
    case existing(batchID: String, fingerprint: String)
}

/// How deep the queue is: what ``BatchQueue/depth()`` counts.
public struct BatchQueueDepth: Sendable, Equatable {
    /// Batches by status (`in_progress`, `completed`, …), every batch stored.
    public var batchesByStatus: [String: Int]
    /// Items of batches that have not ended, by state (`queued`, `running`, `succeeded`, `failed`,
    /// `cancelled`, `expired`).
    public var openItemsByState: [String: Int]

    /// Creates a depth.
    public init(batchesByStatus: [String: Int], openItemsByState: [String: Int]) {
        self.batchesByStatus = batchesByStatus
        self.openItemsByState = openItemsByState
    }
}
