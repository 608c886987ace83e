import Foundation
import MockEngine
import NIOHTTP1
import Testing

@testable import PrefixGateway

/// The Batch API through real HTTP: files, batches, validation, ownership, cancel, expiry, retries.
@Suite("BatchAPI", .serialized)
struct BatchAPITests {
    @Test(
        "a batch runs to completion: one output line per custom_id, sent with vLLM's priority",
        arguments: QueueBackend.configured
    )
    func completes(backend: QueueBackend) async throws {
        try await gatewayFixture(configure: { $0.batch = testBatchSettings(backend) }).run { harness in
            let created = try await harness.createBatch(batchInput(20))
            #expect(created["status"] as? String == "in_progress")
            #expect((created["request_counts"] as? [String: Any])?["total"] as? Int == 20)
            #expect((created["metadata"] as? [String: String])?["job"] == "test")
            let id = try #require(created["id"] as? String)
            let batch = try await harness.waitForBatch(id)
            #expect(batch["status"] as? String == "completed")
            #expect((batch["request_counts"] as? [String: Int]) == ["total": 20, "completed": 20, "failed": 0])
            #expect(batch["error_file_id"] is NSNull)
            let output = try await harness.lines(ofFile: batch["output_file_id"])
            #expect(output.compactMap { $0["custom_id"] as? String } == (1...20).map { "item-\($0)" })
            let first = try #require(output.first)
            let response = try #require(first["response"] as? [String: Any])
            #expect(response["status_code"] as? Int == 200)
            #expect((response["body"] as? [String: Any])?["object"] as? String == "chat.completion")
            #expect(first["error"] is NSNull)
            let records = harness.engines.flatMap { $0.stats.recentRequests }
            #expect(!records.isEmpty && records.allSatisfy { $0.priority == 10 && $0.stream == false })
            let file = harness.object(
                try await harness.get("/v1/files/\(batch["output_file_id"] as? String ?? "")").body
            )
            #expect(file["purpose"] as? String == "batch_output")
            try await harness.expectIdle()
        }
    }

    @Test("invalid lines fail validation with their line numbers; nothing is enqueued")
    func validation() async throws {
        try await gatewayFixture(configure: { $0.batch = testBatchSettings() }).run { harness in
            let good = batchInput(1).trimmingCharacters(in: .newlines)
            let lines = [
                good,
                #"{"custom_id": "broken", "method": "POST""#,
                #"{"custom_id":"x3","method":"POST","url":"/v1/completions","body":{"model":"test-model","prompt":"p"}}"#,
                good,
                #"{"custom_id":"x5","method":"POST","url":"/v1/chat/completions","body":{"model":"nope","messages":[{"role":"user","content":"hi"}]}}"#,
                #"{"method":"POST","url":"/v1/chat/completions","body":{}}"#,
            ]
            let created = try await harness.createBatch(lines.joined(separator: "\n"))
            #expect(created["status"] as? String == "failed")
            #expect(created["failed_at"] is Int)
            let errors = try #require((created["errors"] as? [String: Any])?["data"] as? [[String: Any]])
            #expect(errors.compactMap { $0["line"] as? Int } == [2, 3, 4, 5, 6])
            #expect(
                errors.compactMap { $0["code"] as? String } == [
                    "invalid_json_line", "mismatched_endpoint", "duplicate_custom_id", "model_not_found",
                    "missing_required_parameter",
                ]
            )
            #expect((errors[1]["message"] as? String)?.contains("Line 3") == true)
            #expect((errors[3]["param"] as? String) == "body.model")
            let retrieved = harness.object(try await harness.get("/v1/batches/\(created["id"] as? String ?? "")").body)
            #expect((retrieved["request_counts"] as? [String: Int])?["total"] == 0)
            #expect(harness.engines.allSatisfy { $0.stats.requestsReceived == 0 })
        }
    }

    @Test("uploads: 413 over the limit, 400 for another purpose or a body that is not multipart")
    func uploads() async throws {
        try await gatewayFixture(configure: {
            $0.batch = testBatchSettings()
            $0.batch?.maxFileBytes = 2_048
        }).run { harness in
            let big = try await harness.upload(String(repeating: "x", count: 4_096))
            #expect(big.status == 413)
            #expect(harness.object(big.body)["error"] != nil)
            let wrong = try await harness.upload(batchInput(1), purpose: "fine-tune")
            #expect(wrong.status == 400 && wrong.body.contains("purpose"))
            let plain = try await harness.post("/v1/files", body: "{}")
            #expect(plain.status == 400)
            let bad = try await harness.post(
                "/v1/batches",
                body: #"{"input_file_id":"file-x","endpoint":"/v1/embeddings","completion_window":"24h"}"#
            )
            #expect(bad.status == 400 && bad.body.contains("endpoint"))
            let missing = try await harness.post(
                "/v1/batches",
                body: #"{"input_file_id":"file-x","endpoint":"/v1/chat/completions","completion_window":"24h"}"#
            )
            #expect(missing.status == 404)
            let window = try await harness.post(
                "/v1/batches",
                body: #"{"endpoint":"/v1/chat/completions","completion_window":"24h"}"#
            )
            #expect(window.status == 400 && window.body.contains("input_file_id"))
        }
    }

    @Test("files and batches belong to their key: another key gets 404 and an empty list")
    func ownership() async throws {
        try await gatewayFixture(configure: {
            $0.batch = testBatchSettings()
            $0.auth.apiKeys = ["key-a", "key-b"]
        }).run { harness in
            let created = try await harness.createBatch(batchInput(2), key: "key-a")
            let id = try #require(created["id"] as? String)
            let fileID = try #require(created["input_file_id"] as? String)
            let b = [("authorization", "Bearer key-b")]
            #expect(try await harness.get("/v1/batches/\(id)", headers: b).status == 404)
            #expect(try await harness.get("/v1/files/\(fileID)", headers: b).status == 404)
            #expect(try await harness.get("/v1/files/\(fileID)/content", headers: b).status == 404)
            #expect(try await harness.post("/v1/batches/\(id)/cancel", body: "", headers: b).status == 404)
            #expect(try await harness.get("/v1/files/\(fileID)", headers: b, method: .DELETE).status == 404)
            let listB = harness.object(try await harness.get("/v1/batches", headers: b).body)
            #expect((listB["data"] as? [Any])?.isEmpty == true)
            let listA = harness.object(
                try await harness.get("/v1/batches?limit=5", headers: [("authorization", "Bearer key-a")]).body
            )
            #expect(((listA["data"] as? [[String: Any]])?.first?["id"] as? String) == id)
            #expect(try await harness.get("/v1/batches").status == 401)
            _ = try await harness.waitForBatch(id, key: "key-a")
            let a = [("authorization", "Bearer key-a")]
            #expect(try await harness.get("/v1/files/\(fileID)", headers: a, method: .DELETE).status == 200)
            #expect(try await harness.get("/v1/files/\(fileID)", headers: a).status == 404)
        }
    }

    @Test("cancel stops dispatch; finished items are kept and the rest are batch_cancelled")
    func cancel() async throws {
        try await gatewayFixture(
            engine: MockEngineConfiguration(models: [testModel], decodeTokensPerSecond: 50, maxRunning: 4),
            configure: {
                $0.batch = testBatchSettings()
                $0.admission.perReplicaCap = 4
            }
        ).run { harness in
            let created = try await harness.createBatch(batchInput(40, maxTokens: 10))
            let id = try #require(created["id"] as? String)
            try await harness.eventually("some items ran") {
                harness.engines.map(\.stats.requestsCompleted).reduce(0, +) >= 4
            }
            let cancelling = harness.object(try await harness.post("/v1/batches/\(id)/cancel", body: "").body)
            #expect(["cancelling", "cancelled"].contains(cancelling["status"] as? String ?? ""))
            let batch = try await harness.waitForBatch(id)
            #expect(batch["status"] as? String == "cancelled")
            #expect(batch["cancelled_at"] is Int && batch["cancelling_at"] is Int)
            let output = try await harness.lines(ofFile: batch["output_file_id"])
            let errors = try await harness.lines(ofFile: batch["error_file_id"])
            let ids = (output + errors).compactMap { $0["custom_id"] as? String }
            #expect(ids.count == 40 && Set(ids).count == 40)
            #expect(output.count >= 4 && errors.count >= 1)
            #expect(errors.allSatisfy { ($0["error"] as? [String: Any])?["code"] as? String == "batch_cancelled" })
            let again = try await harness.post("/v1/batches/\(id)/cancel", body: "")
            #expect(again.status == 200)
            try await harness.expectIdle()
        }
    }

    @Test("a short completion window expires: what finished is kept, the rest is batch_expired")
    func expiry() async throws {
        try await gatewayFixture(
            engines: 1,
            engine: MockEngineConfiguration(models: [testModel], decodeTokensPerSecond: 40, maxRunning: 2),
            configure: {
                $0.batch = testBatchSettings()
                $0.admission.perReplicaCap = 2
            }
        ).run { harness in
            let created = try await harness.createBatch(batchInput(60, maxTokens: 8), window: "2s")
            let id = try #require(created["id"] as? String)
            let batch = try await harness.waitForBatch(id, seconds: 30)
            #expect(batch["status"] as? String == "expired")
            #expect(batch["expired_at"] is Int)
            let output = try await harness.lines(ofFile: batch["output_file_id"])
            let errors = try await harness.lines(ofFile: batch["error_file_id"])
            #expect(output.count + errors.count == 60)
            #expect(output.count >= 1 && errors.count >= 1)
            #expect(errors.contains { ($0["error"] as? [String: Any])?["code"] as? String == "batch_expired" })
        }
    }

    @Test("429 and 5xx answers are retried with backoff; after the last attempt, an error line")
    func retries() async throws {
        try await gatewayFixture(
            engines: 1,
            configure: {
                $0.batch = testBatchSettings()
                $0.batch?.maxAttempts = 3
                $0.health.passiveFailureThreshold = 0
            }
        ).run { harness in
            harness.engines[0].setFaults(MockEngineFaults(failStatus: 503))
            let created = try await harness.createBatch(batchInput(3))
            let id = try #require(created["id"] as? String)
            let batch = try await harness.waitForBatch(id)
            #expect(batch["status"] as? String == "completed")
            #expect((batch["request_counts"] as? [String: Int])?["failed"] == 3)
            let errors = try await harness.lines(ofFile: batch["error_file_id"])
            #expect(errors.count == 3)
            #expect(errors.allSatisfy { ($0["response"] as? [String: Any])?["status_code"] as? Int == 503 })
            #expect(harness.engines[0].stats.requestsReceived == 9)  // 3 items × 3 attempts

            harness.engines[0].setFaults(MockEngineFaults(failStatus: 429))
            let second = try await harness.createBatch(batchInput(2, prefix: "again"))
            try await harness.eventually("a first attempt was refused") {
                harness.engines[0].stats.requestsReceived >= 10
            }
            harness.engines[0].setFaults(MockEngineFaults())
            let done = try await harness.waitForBatch(try #require(second["id"] as? String))
            #expect((done["request_counts"] as? [String: Int])?["completed"] == 2)
        }
    }
}
