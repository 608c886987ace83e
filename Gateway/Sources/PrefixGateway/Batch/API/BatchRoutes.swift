import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The Batch API: `/v1/files` and `/v1/batches`, in OpenAI's shapes. Every file and batch belongs to the
/// API key that created it (``BatchOwner``); another key gets 404.
enum BatchRoutes {
    /// The routes and methods, for the 404/405 guard.
    static let endpoints: [String: [HTTPRequest.Method]] = [
        "/v1/files": [.post], "/v1/files/:id": [.get, .delete], "/v1/files/:id/content": [.get],
        "/v1/batches": [.get, .post], "/v1/batches/:id": [.get], "/v1/batches/:id/cancel": [.post],
    ]

    static func add(to router: Hummingbird.Router<BasicRequestContext>, core: GatewayCore, batch: BatchService) {
        let handlers = BatchHandlers(core: core, batch: batch)
        @Sendable func authenticated(
            _ handler: @escaping @Sendable (Request, BasicRequestContext, String) async throws -> Response
        ) -> @Sendable (Request, BasicRequestContext) async throws -> Response {
            { request, context in
                let runtime = core.runtime
                guard runtime.admitsClient(request.headers) else { return APIError.unauthorized.response() }
                let owner = BatchOwner.of(request.headers, keysConfigured: !runtime.apiKeys.isEmpty)
                do {
                    return try await handler(request, context, owner)
                } catch {
                    core.logger.error("batch API: store failed", metadata: ["error": "\(error)"])
                    return APIError.storeFailed.response()
                }
            }
        }
        router.post("v1/files", use: authenticated(handlers.upload))
        router.get("v1/files/:id", use: authenticated(handlers.file))
        router.delete("v1/files/:id", use: authenticated(handlers.deleteFile))
        router.get("v1/files/:id/content", use: authenticated(handlers.content))
        router.post("v1/batches", use: authenticated(handlers.create))
        router.get("v1/batches", use: authenticated(handlers.list))
        router.get("v1/batches/:id", use: authenticated(handlers.retrieve))
        router.post("v1/batches/:id/cancel", use: authenticated(handlers.cancel))
    }
}

/// The handlers behind ``BatchRoutes``.
struct BatchHandlers: Sendable {
    let core: GatewayCore
    let batch: BatchService

    var queue: any BatchQueue { batch.queue }
    var settings: BatchConfiguration { batch.settings }

    func upload(_ request: Request, _ context: BasicRequestContext, owner: String) async throws -> Response {
        let limit = settings.maxFileBytes
        let envelope = limit + 64 * 1_024  // the multipart framing and the purpose field
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > envelope {
            return APIError.fileTooLarge(limit: limit).response()
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: envelope)
        } catch is NIOTooManyBytesError {
            return APIError.fileTooLarge(limit: limit).response()
        }
        let upload: MultipartUpload
        do {
            upload = try MultipartUpload.parse(contentType: request.headers[.contentType], body: body)
        } catch {
            return APIError.invalidRequest(error.message, param: error.param).response()
        }
        guard upload.purpose == "batch" else {
            return APIError.invalidRequest(
                "purpose: expected 'batch', found '\(upload.purpose ?? "")' (this gateway stores batch input only).",
                param: "purpose"
            ).response()
        }
        guard let content = upload.content else {
            return APIError.invalidRequest("file: the form has no 'file' part.", param: "file").response()
        }
        guard content.readableBytes <= limit else { return APIError.fileTooLarge(limit: limit).response() }
        let bytes = Array(buffer: content)
        guard String(validating: bytes, as: UTF8.self) != nil else {
            return APIError.invalidRequest("file: expected UTF-8 JSONL.", param: "file").response()
        }
        let file = BatchFile(
            id: BatchIdentifiers.file(),
            owner: owner,
            purpose: "batch",
            filename: String((upload.filename ?? "upload.jsonl").prefix(255)),
            bytes: bytes.count,
            createdAt: batch.clock.nowMillis()
        )
        try await queue.insertFile(file, content: bytes)
        return GatewayRoutes.json(FileObject(file: file))
    }

    func file(_ request: Request, _ context: BasicRequestContext, owner: String) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        guard let file = try await queue.file(id: id, owner: owner) else {
            return APIError.noSuch("File", id).response()
        }
        return GatewayRoutes.json(FileObject(file: file))
    }

    func deleteFile(_ request: Request, _ context: BasicRequestContext, owner: String) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        guard try await queue.deleteFile(id: id, owner: owner) else { return APIError.noSuch("File", id).response() }
        return GatewayRoutes.json(FileDeleted(id: id))
    }

    func content(_ request: Request, _ context: BasicRequestContext, owner: String) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        guard let bytes = try await queue.fileContent(id: id, owner: owner) else {
            return APIError.noSuch("File", id).response()
        }
        return Response(
            status: .ok,
            headers: [.contentType: "application/octet-stream"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }

    func create(_ request: Request, _ context: BasicRequestContext, owner: String) async throws -> Response {
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: 1 << 20)
        } catch is NIOTooManyBytesError {
            return APIError.bodyTooLarge(limit: 1 << 20).response()
        }
        let input: CreateBatchRequest
        do {
            input = try JSONDecoder().decode(CreateBatchRequest.self, from: Data(body.readableBytesView))
        } catch {
            return APIError.invalidRequest(Self.describe(error), param: Self.field(error)).response()
        }
        guard let endpoint = CompletionEndpoint(rawValue: input.endpoint) else {
            return APIError.invalidRequest(
                "endpoint: expected /v1/chat/completions or /v1/completions, found '\(input.endpoint)'.",
                param: "endpoint"
            ).response()
        }
        guard settings.completionWindows.contains(input.completionWindow),
            let window = BatchWindow.milliseconds(input.completionWindow)
        else {
            return APIError.invalidRequest(
                "completion_window: expected one of \(settings.completionWindows.joined(separator: ", ")).",
                param: "completion_window"
            ).response()
        }
        if let metadata = input.metadata,
            metadata.count > 16 || metadata.contains(where: { $0.key.count > 64 || $0.value.count > 512 })
        {
            return APIError.invalidRequest(
                "metadata: at most 16 pairs, keys up to 64 and values up to 512 characters.",
                param: "metadata"
            ).response()
        }
        var idempotency: IdempotencyClaim?
        switch BatchIdempotency.header(request.headers) {
        case .absent:
            break
        case .invalid:
            return APIError.invalidRequest(
                "Idempotency-Key: expected 1 to \(BatchIdempotency.maxKeyLength) visible ASCII characters.",
                param: "Idempotency-Key"
            ).response()
        case .key(let key):
            let claim = IdempotencyClaim(
                key: key,
                fingerprint: BatchIdempotency.fingerprint(input),
                notBefore: batch.clock.nowMillis() - BatchIdempotency.windowMillis
            )
            if let existing = try await queue.idempotentBatch(owner: owner, key: key, notBefore: claim.notBefore) {
                return try await replay(existing, claim: claim, owner: owner)
            }
            idempotency = claim
        }
        guard let file = try await queue.file(id: input.inputFileID, owner: owner),
            let content = try await queue.fileContent(id: input.inputFileID, owner: owner)
        else { return APIError.noSuch("File", input.inputFileID).response() }
        guard file.purpose == "batch" else {
            return APIError.invalidRequest(
                "input_file_id: the file's purpose is \(file.purpose), not batch.",
                param: "input_file_id"
            )
            .response()
        }
        let validator = BatchInputValidator(
            endpoint: endpoint,
            models: Set(core.runtime.directory.models),
            maxRequests: settings.maxRequestsPerBatch,
            priority: settings.priority
        )
        let now = batch.clock.nowMillis()
        var record = BatchRecord(
            id: BatchIdentifiers.batch(),
            owner: owner,
            endpoint: endpoint.rawValue,
            inputFileID: file.id,
            completionWindow: input.completionWindow,
            status: .inProgress,
            finalStatus: nil,
            metadata: input.metadata.flatMap { try? String(decoding: JSONEncoder().encode($0), as: UTF8.self) },
            errors: [],
            outputFileID: nil,
            errorFileID: nil,
            counts: BatchRequestCounts(total: 0, completed: 0, failed: 0),
            createdAt: now,
            inProgressAt: now,
            expiresAt: now + window,
            finalizingAt: nil,
            completedAt: nil,
            failedAt: nil,
            expiredAt: nil,
            cancellingAt: nil,
            cancelledAt: nil
        )
        var items: [NewBatchItem] = []
        switch validator.validate(content) {
        case .items(let valid):
            items = valid
            record.counts.total = valid.count
        case .errors(let errors):
            record.status = .failed
            record.errors = errors
            record.inProgressAt = nil
            record.failedAt = now
        }
        let insertion = try await queue.insertBatch(
            record,
            items: items,
            webhook: settings.webhook != nil,
            idempotency: idempotency
        )
        if let idempotency, insertion != .inserted {  // a concurrent request with the key won
            return try await replay(insertion, claim: idempotency, owner: owner)
        }
        return GatewayRoutes.json(BatchObject(batch: record))
    }

    func retrieve(_ request: Request, _ context: BasicRequestContext, owner: String) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        guard let found = try await queue.batch(id: id, owner: owner) else {
            return APIError.noSuch("Batch", id).response()
        }
        return GatewayRoutes.json(BatchObject(batch: found))
    }

    func list(_ request: Request, _ context: BasicRequestContext, owner: String) async throws -> Response {
        let query = request.uri.queryParameters
        var limit = 20
        if let text = query.get("limit") {
            guard let value = Int(text), (1...100).contains(value) else {
                return APIError.invalidRequest("limit: expected 1...100, found '\(text)'.", param: "limit").response()
            }
            limit = value
        }
        let page = try await queue.batches(owner: owner, limit: limit, after: query.get("after"))
        return GatewayRoutes.json(BatchList(batches: page.batches, hasMore: page.hasMore))
    }

    func cancel(_ request: Request, _ context: BasicRequestContext, owner: String) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        switch try await queue.cancel(id: id, owner: owner, now: batch.clock.nowMillis()) {
        case nil: return APIError.noSuch("Batch", id).response()
        case .cancelling(let record): return GatewayRoutes.json(BatchObject(batch: record))
        case .notCancellable(let record): return APIError.notCancellable(record).response()
        }
    }

    /// A decoding error as `field: problem`.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "The body is not valid JSON." }
        switch error {
        case .keyNotFound(let key, _): return "\(key.stringValue): required."
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return "\(path): \(context.debugDescription)"
        case .dataCorrupted: return "The body is not valid JSON."
        @unknown default: return "The body is not valid JSON."
        }
    }

    /// The field a decoding error names.
    static func field(_ error: any Error) -> String? {
        guard let error = error as? DecodingError else { return nil }
        switch error {
        case .keyNotFound(let key, _): return key.stringValue
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return context.codingPath.map(\.stringValue).joined(separator: ".")
        default: return nil
        }
    }
}
