import Foundation
import Testing

@testable import PrefixGateway

/// The queue's depth (`BatchQueue.depth()`) and its gauges on `/metrics`.
@Suite("BatchDepth")
struct BatchDepthTests {
    let t0: Int64 = 1_750_000_000_000

    @Test("depth counts batches by status and the items of open batches by state", arguments: QueueBackend.configured)
    func depth(backend: QueueBackend) async throws {
        try await withQueue(backend) { queue, _ in
            let open = testBatch(total: 4, now: t0)
            try await queue.insertBatch(open, items: testItems(4), webhook: false)
            let done = testBatch(total: 1, now: t0)
            try await queue.insertBatch(done, items: testItems(1), webhook: false)
            let claimed = try await queue.claim(worker: "w", limit: 10, now: t0, leaseMillis: 60_000)
            #expect(claimed.count == 5)
            let inOpen = claimed.filter { $0.batchID == open.id }
            #expect(inOpen.count == 4)
            #expect(try await queue.finish(inOpen[0], worker: "w", outcome: ok(), now: t0))
            #expect(try await queue.finish(inOpen[1], worker: "w", outcome: .error(code: "x", message: "y"), now: t0))
            for item in claimed where item.batchID == done.id {
                #expect(try await queue.finish(item, worker: "w", outcome: ok(), now: t0))
            }
            _ = try await queue.advance(now: t0)
            _ = try await queue.finalize(batchID: done.id, now: t0, webhook: false)

            let depth = try await queue.depth()
            #expect(depth.batchesByStatus == ["in_progress": 1, "completed": 1])
            #expect(depth.openItemsByState == ["succeeded": 1, "failed": 1, "running": 2])
        }
    }

    @Test("/metrics exports the backlog by state, zeros included")
    func metrics() async throws {
        try await gatewayFixture(configure: {
            $0.batch = testBatchSettings()
            $0.admission.perReplicaCap = 1  // with the reserve, no per-replica room: the items stay queued
        }).run { harness in
            _ = try await harness.createBatch(batchInput(5))
            let text = try await harness.get("/metrics").body
            #expect(text.contains(#"gateway_batch_open_items{state="queued"} 5"#))
            #expect(text.contains(#"gateway_batch_open_items{state="running"} 0"#))
            #expect(text.contains(#"gateway_batches{status="in_progress"} 1"#))
            #expect(text.contains(#"gateway_batches{status="completed"} 0"#))
            #expect(text.contains("gateway_batch_dispatching_items 0"))
        }
    }
}
