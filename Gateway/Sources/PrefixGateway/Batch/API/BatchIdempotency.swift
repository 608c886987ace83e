import Foundation
import HTTPTypes
import Hummingbird

/// `Idempotency-Key` on `POST /v1/batches` (draft-ietf-httpapi-idempotency-key-header): the same key from
/// the same owner within 24 hours answers with the batch the first request created, not a second batch, so
/// that a nightly job whose create request timed out can send it again. The same key with another request
/// (another file, endpoint, window or metadata) is refused with 422.
enum BatchIdempotency {
    /// How long a key names its batch: 24 hours, in milliseconds.
    static let windowMillis: Int64 = 24 * 3_600 * 1_000
    /// The longest key accepted.
    static let maxKeyLength = 255

    /// What the request's `Idempotency-Key` header says.
    enum Header: Equatable {
        /// No header.
        case absent
        /// A usable key.
        case key(String)
        /// A key that is empty, too long, or not visible ASCII.
        case invalid
    }

    /// The request's `Idempotency-Key`.
    static func header(_ fields: HTTPFields) -> Header {
        guard let field = fields.first(where: { $0.name.canonicalName == "idempotency-key" }) else { return .absent }
        let key = field.value
        guard (1...maxKeyLength).contains(key.utf8.count), key.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) else {
            return .invalid
        }
        return .key(key)
    }

    /// A digest of the request's fields (JSON with sorted keys, SHA-256, hex).
    static func fingerprint(_ request: CreateBatchRequest) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let bytes = (try? encoder.encode(request)) ?? Data()
        return HexDigest.sha256(bytes)
    }
}

extension BatchHandlers {
    /// The answer to a create request whose `Idempotency-Key` already names a batch: that batch as it is
    /// now (with `Idempotent-Replayed: true`), or 422 when the key came with another request.
    func replay(_ existing: BatchInsertion, claim: IdempotencyClaim, owner: String) async throws -> Response {
        guard case .existing(let id, let fingerprint) = existing else { return APIError.storeFailed.response() }
        guard fingerprint == claim.fingerprint else { return APIError.idempotencyKeyReused.response() }
        guard let found = try await queue.batch(id: id, owner: owner) else {
            return APIError.noSuch("Batch", id).response()
        }
        var response = GatewayRoutes.json(BatchObject(batch: found))
        if let name = HTTPField.Name("Idempotent-Replayed") { response.headers[name] = "true" }
        return response
    }
}
