import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import PrefixGateway

/// Batch settings for tests: a fresh SQLite file (or the PostgreSQL server, with a schema of its own), fast
/// polls, short leases and backoffs, and a 2-second window besides 24h.
func testBatchSettings(_ backend: QueueBackend = .sqlite) -> BatchConfiguration {
    var settings = BatchConfiguration()
    switch backend {
    case .sqlite:
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("batch-api-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        settings.sqlitePath = folder.appendingPathComponent("queue.sqlite").path
    case .postgres:
        settings.store = .postgres
        let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        settings.postgresURL = (QueueBackend.postgresURL ?? "") + "?schema=" + schema
    }
    settings.pollSeconds = 0.02
    settings.leaseSeconds = 2
    settings.retryBaseSeconds = 0.05
    settings.retryMaxSeconds = 0.2
    settings.completionWindows = ["24h", "2s"]
    return settings
}

extension GatewayHarness {
    /// Uploads `content` as a `purpose=batch` file; returns status and body.
    func upload(
        _ content: String,
        purpose: String = "batch",
        key: String? = nil
    ) async throws -> (status: Int, body: String) {
        let boundary = "test-boundary-\(UUID().uuidString)"
        var body = "--\(boundary)\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n\(purpose)\r\n"
        body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"input.jsonl\"\r\n"
        body += "Content-Type: application/jsonl\r\n\r\n\(content)\r\n--\(boundary)--\r\n"
        var request = HTTPClientRequest(url: baseURL + "/v1/files")
        request.method = .POST
        request.headers.add(name: "content-type", value: "multipart/form-data; boundary=\(boundary)")
        if let key { request.headers.add(name: "authorization", value: "Bearer \(key)") }
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await client.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return (Int(response.status.code), String(buffer: bytes))
    }

    /// A JSON object answer's fields.
    func object(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
    }

    /// Uploads `content` and creates a batch on it; returns the batch object.
    func createBatch(
        _ content: String,
        window: String = "24h",
        key: String? = nil,
        endpoint: String = "/v1/chat/completions"
    ) async throws -> [String: Any] {
        let upload = try await upload(content, key: key)
        #expect(upload.status == 200, "\(upload.body)")
        let fileID = object(upload.body)["id"] as? String ?? ""
        let created = try await post(
            "/v1/batches",
            body:
                #"{"input_file_id":"\#(fileID)","endpoint":"\#(endpoint)","completion_window":"\#(window)","metadata":{"job":"test"}}"#,
            headers: key.map { [("authorization", "Bearer \($0)")] } ?? []
        )
        #expect(created.status == 200, "\(created.body)")
        return object(created.body)
    }

    /// Polls the batch until it reaches a terminal status; returns it.
    func waitForBatch(_ id: String, key: String? = nil, seconds: Double = 60) async throws -> [String: Any] {
        let headers = key.map { [("authorization", "Bearer \($0)")] } ?? []
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1_000))
        while ContinuousClock.now < deadline {
            let batch = object(try await get("/v1/batches/\(id)", headers: headers).body)
            if let status = batch["status"] as? String,
                ["completed", "failed", "expired", "cancelled"].contains(status)
            {
                return batch
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("batch \(id) did not end within \(seconds) s")
        return [:]
    }

    /// A file's JSONL lines, parsed.
    func lines(ofFile id: Any?, key: String? = nil) async throws -> [[String: Any]] {
        guard let id = id as? String else { return [] }
        let headers = key.map { [("authorization", "Bearer \($0)")] } ?? []
        return jsonLines(Array(try await get("/v1/files/\(id)/content", headers: headers).body.utf8))
    }
}

/// `count` JSONL request lines for `model`, custom ids `item-1`…
func batchInput(_ count: Int, model: String = testModel, maxTokens: Int = 2, prefix: String = "item") -> String {
    (1...count).map { index in
        #"{"custom_id":"\#(prefix)-\#(index)","method":"POST","url":"/v1/chat/completions","body":{"model":"\#(model)","max_tokens":\#(maxTokens),"messages":[{"role":"system","content":"A shared instruction prefix for every line of this batch."},{"role":"user","content":"line \#(index)"}]}}"#
    }.joined(separator: "\n") + "\n"
}
