import HTTPTypes

extension APIError {
    /// 404 for a file or batch that does not exist or belongs to another key.
    static func noSuch(_ object: String, _ id: String) -> APIError {
        APIError(
            status: .notFound,
            message: "No such \(object) object: \(id)",
            type: "invalid_request_error",
            param: "id",
            code: nil
        )
    }

    /// 413 for an upload over `batch.maxFileBytes`.
    static func fileTooLarge(limit: Int) -> APIError {
        APIError(
            status: .contentTooLarge,
            message: "The file exceeds the gateway's limit of \(limit) bytes (batch.maxFileBytes).",
            type: "invalid_request_error",
            param: "file",
            code: "file_too_large"
        )
    }

    /// 409 for cancelling a batch that has ended.
    static func notCancellable(_ batch: BatchRecord) -> APIError {
        APIError(
            status: .conflict,
            message: "Cannot cancel a batch with status \(batch.status.rawValue).",
            type: "invalid_request_error",
            param: nil,
            code: "batch_not_cancellable"
        )
    }

    /// 422 for an `Idempotency-Key` already used with another request (draft-ietf-httpapi-idempotency-key-header).
    static let idempotencyKeyReused = APIError(
        status: .unprocessableContent,
        message: "This Idempotency-Key was used with another request in the last 24 hours.",
        type: "invalid_request_error",
        param: "Idempotency-Key",
        code: "idempotency_key_reused"
    )

    /// 500 when the queue's database failed.
    static let storeFailed = APIError(
        status: .internalServerError,
        message: "The batch store failed; retry later.",
        type: "server_error",
        param: nil,
        code: "batch_store_error"
    )
}
