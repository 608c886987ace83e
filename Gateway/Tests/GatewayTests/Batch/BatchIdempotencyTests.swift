import Foundation
import NIOHTTP1
import Testing

@testable import PrefixGateway

/// `Idempotency-Key` on `POST /v1/batches`: in the queue (explicit times, concurrent creators) and through
/// HTTP, on every configured backend.
@Suite("BatchIdempotency")
struct BatchIdempotencyTests {
    let t0: Int64 = 1_750_000_000_000
    let hour: Int64 = 3_600_000

    func claim(_ key: String, at now: Int64, fingerprint: String = "fp-1") -> IdempotencyClaim {
        IdempotencyClaim(key: key, fingerprint: fingerprint, notBefore: now - BatchIdempotency.windowMillis)
    }

    @Test("a key names one batch per owner for 24 hours, then a new one", arguments: QueueBackend.configured)
    func queueWindow(backend: QueueBackend) async throws {
        try await withQueue(backend) { queue, _ in
            let first = testBatch(total: 2, now: t0)
            #expect(
                try await queue.insertBatch(first, items: testItems(2), webhook: false, idempotency: claim("k", at: t0))
                    == .inserted
            )

            let again = testBatch(total: 2, now: t0 + hour)
            let replayed = try await queue.insertBatch(
                again,
                items: testItems(2),
                webhook: false,
                idempotency: claim("k", at: t0 + hour, fingerprint: "fp-2")
            )
            #expect(replayed == .existing(batchID: first.id, fingerprint: "fp-1"))
            #expect(try await queue.batch(id: again.id, owner: nil) == nil)
            #expect(try await queue.claim(worker: "w", limit: 10, now: t0 + hour, leaseMillis: hour).count == 2)

            let otherOwner = testBatch(owner: "owner-b", total: 1, now: t0 + hour)
            #expect(
                try await queue.insertBatch(
                    otherOwner,
                    items: testItems(1),
                    webhook: false,
                    idempotency: claim("k", at: t0 + hour)
                ) == .inserted
            )

            let later = t0 + 25 * hour
            #expect(
                try await queue.idempotentBatch(
                    owner: "owner-a",
                    key: "k",
                    notBefore: later - BatchIdempotency.windowMillis
                ) == nil
            )
            let renewed = testBatch(total: 1, now: later)
            #expect(
                try await queue.insertBatch(
                    renewed,
                    items: testItems(1),
                    webhook: false,
                    idempotency: claim("k", at: later)
                ) == .inserted
            )
            #expect(
                try await queue.idempotentBatch(
                    owner: "owner-a",
                    key: "k",
                    notBefore: later - BatchIdempotency.windowMillis
                )
                    == .existing(batchID: renewed.id, fingerprint: "fp-1")
            )
        }
    }

    @Test("concurrent creators with one key store one batch", arguments: QueueBackend.configured)
    func queueConcurrent(backend: QueueBackend) async throws {
        try await withQueue(backend) { queue, _ in
            let batches = (0..<8).map { _ in testBatch(total: 3, now: t0) }
            let results = try await withThrowingTaskGroup(of: (String, BatchInsertion).self) { group in
                for batch in batches {
                    group.addTask {
                        let result = try await queue.insertBatch(
                            batch,
                            items: testItems(3),
                            webhook: false,
                            idempotency: claim("shared", at: t0)
                        )
                        return (batch.id, result)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let winners = results.filter { $0.1 == .inserted }.map(\.0)
            #expect(winners.count == 1)
            let winner = try #require(winners.first)
            #expect(results.allSatisfy { $0.1 == .inserted || $0.1 == .existing(batchID: winner, fingerprint: "fp-1") })
            var stored = 0
            for batch in batches where try await queue.batch(id: batch.id, owner: nil) != nil { stored += 1 }
            #expect(stored == 1)
            #expect(try await queue.claim(worker: "w", limit: 100, now: t0, leaseMillis: hour).count == 3)
        }
    }

    @Test(
        "HTTP: the same key and request answer the same batch; another request 422; another key its own",
        arguments: QueueBackend.configured
    )
    func http(backend: QueueBackend) async throws {
        try await gatewayFixture(configure: {
            $0.batch = testBatchSettings(backend)
            $0.auth.apiKeys = ["key-a", "key-b"]
        }).run { harness in
            /// Uploads `lines` lines for `key`; the create request's body on that file.
            func createBody(_ lines: Int, key: String) async throws -> String {
                let upload = try await harness.upload(batchInput(lines), key: key)
                let fileID = try #require(harness.object(upload.body)["id"] as? String)
                return #"{"input_file_id":"\#(fileID)","endpoint":"/v1/chat/completions","completion_window":"24h"}"#
            }
            let body = try await createBody(3, key: "key-a")
            let a = [("authorization", "Bearer key-a"), ("idempotency-key", "nightly-2026-11-30")]

            let first = try await harness.post("/v1/batches", body: body, headers: a)
            #expect(first.status == 200)
            #expect(first.headers.first(name: "idempotent-replayed") == nil)
            let id = try #require(harness.object(first.body)["id"] as? String)
            let second = try await harness.post("/v1/batches", body: body, headers: a)
            #expect(second.status == 200)
            #expect(harness.object(second.body)["id"] as? String == id)
            #expect(second.headers.first(name: "idempotent-replayed") == "true")

            let other = body.dropLast() + #","metadata":{"run":"2"}}"#
            let reused = try await harness.post("/v1/batches", body: String(other), headers: a)
            #expect(reused.status == 422)
            #expect(
                harness.object(reused.body)["error"].flatMap { ($0 as? [String: Any])?["code"] as? String }
                    == "idempotency_key_reused"
            )

            let tooLong = [("authorization", "Bearer key-a"), ("idempotency-key", String(repeating: "k", count: 256))]
            #expect(try await harness.post("/v1/batches", body: body, headers: tooLong).status == 400)

            let listed = harness.object(
                try await harness.get("/v1/batches", headers: [("authorization", "Bearer key-a")]).body
            )
            #expect((listed["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [id])

            let bodyB = try await createBody(1, key: "key-b")
            let b = [("authorization", "Bearer key-b"), ("idempotency-key", "nightly-2026-11-30")]
            let created = try await harness.post("/v1/batches", body: bodyB, headers: b)
            #expect(created.status == 200)
            #expect(harness.object(created.body)["id"] as? String != id)
            _ = try await harness.waitForBatch(id, key: "key-a")
            _ = try await harness.waitForBatch(harness.object(created.body)["id"] as? String ?? "", key: "key-b")
        }
    }
}
