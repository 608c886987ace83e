import Foundation

/// `file` objects in OpenAI's shape.
struct FileObject: Encodable {
    var file: BatchFile

    enum CodingKeys: String, CodingKey {
        case id, object, bytes, filename, purpose, status
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case statusDetails = "status_details"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(file.id, forKey: .id)
        try c.encode("file", forKey: .object)
        try c.encode(file.bytes, forKey: .bytes)
        try c.encode(file.createdAt / 1_000, forKey: .createdAt)
        try c.encode(Int64?.none, forKey: .expiresAt)
        try c.encode(file.filename, forKey: .filename)
        try c.encode(file.purpose, forKey: .purpose)
        try c.encode("processed", forKey: .status)
        try c.encode(String?.none, forKey: .statusDetails)
    }
}

/// `DELETE /v1/files/{id}`'s answer.
struct FileDeleted: Encodable {
    var id: String
    var object = "file"
    var deleted = true
}

/// `batch` objects in OpenAI's shape: every field present, `null` when unset; times in seconds.
struct BatchObject: Encodable {
    var batch: BatchRecord

    enum CodingKeys: String, CodingKey {
        case id, object, endpoint, errors, status, metadata, model
        case inputFileID = "input_file_id"
        case completionWindow = "completion_window"
        case outputFileID = "output_file_id"
        case errorFileID = "error_file_id"
        case createdAt = "created_at"
        case inProgressAt = "in_progress_at"
        case expiresAt = "expires_at"
        case finalizingAt = "finalizing_at"
        case completedAt = "completed_at"
        case failedAt = "failed_at"
        case expiredAt = "expired_at"
        case cancellingAt = "cancelling_at"
        case cancelledAt = "cancelled_at"
        case requestCounts = "request_counts"
    }

    struct ErrorList: Encodable {
        var object = "list"
        var data: [LineError]
    }

    struct LineError: Encodable {
        var error: BatchLineError
        enum CodingKeys: String, CodingKey { case code, message, param, line }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(error.code, forKey: .code)
            try c.encode(error.message, forKey: .message)
            try c.encode(error.param, forKey: .param)
            try c.encode(error.line, forKey: .line)
        }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        func seconds(_ millis: Int64?) -> Int64? { millis.map { $0 / 1_000 } }
        try c.encode(batch.id, forKey: .id)
        try c.encode("batch", forKey: .object)
        try c.encode(batch.endpoint, forKey: .endpoint)
        try c.encode(
            batch.errors.isEmpty ? nil : ErrorList(data: batch.errors.map { LineError(error: $0) }),
            forKey: .errors
        )
        try c.encode(batch.inputFileID, forKey: .inputFileID)
        try c.encode(batch.completionWindow, forKey: .completionWindow)
        try c.encode(batch.status.rawValue, forKey: .status)
        try c.encode(batch.outputFileID, forKey: .outputFileID)
        try c.encode(batch.errorFileID, forKey: .errorFileID)
        try c.encode(seconds(batch.createdAt), forKey: .createdAt)
        try c.encode(seconds(batch.inProgressAt), forKey: .inProgressAt)
        try c.encode(seconds(batch.expiresAt), forKey: .expiresAt)
        try c.encode(seconds(batch.finalizingAt), forKey: .finalizingAt)
        try c.encode(seconds(batch.completedAt), forKey: .completedAt)
        try c.encode(seconds(batch.failedAt), forKey: .failedAt)
        try c.encode(seconds(batch.expiredAt), forKey: .expiredAt)
        try c.encode(seconds(batch.cancellingAt), forKey: .cancellingAt)
        try c.encode(seconds(batch.cancelledAt), forKey: .cancelledAt)
        try c.encode(batch.counts, forKey: .requestCounts)
        let metadata = batch.metadata.flatMap { text in
            try? JSONDecoder().decode([String: String].self, from: Data(text.utf8))
        }
        try c.encode(metadata, forKey: .metadata)
    }
}

/// A page of batches: `{"object": "list", "data", "first_id", "last_id", "has_more"}`.
struct BatchList: Encodable {
    var batches: [BatchRecord]
    var hasMore: Bool

    enum CodingKeys: String, CodingKey {
        case object, data
        case firstID = "first_id"
        case lastID = "last_id"
        case hasMore = "has_more"
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode("list", forKey: .object)
        try c.encode(batches.map { BatchObject(batch: $0) }, forKey: .data)
        try c.encode(batches.first?.id, forKey: .firstID)
        try c.encode(batches.last?.id, forKey: .lastID)
        try c.encode(hasMore, forKey: .hasMore)
    }
}

/// `POST /v1/batches`'s body.
struct CreateBatchRequest: Codable {
    var inputFileID: String
    var endpoint: String
    var completionWindow: String
    var metadata: [String: String]?

    enum CodingKeys: String, CodingKey {
        case endpoint, metadata
        case inputFileID = "input_file_id"
        case completionWindow = "completion_window"
    }
}
