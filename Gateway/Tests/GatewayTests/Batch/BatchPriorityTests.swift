import Foundation
import MockEngine
import PrefixRouter
import Testing

@testable import PrefixGateway

/// Batch work uses spare capacity only: interactive requests within the reserved share are never refused
/// because of it.
@Suite("BatchPriority", .serialized)
struct BatchPriorityTests {
    @Test("while a batch drains, interactive requests within the reserve get no 429; batch stays in its share")
    func interactiveKeepsItsReserve() async throws {
        try await gatewayFixture(
            engine: MockEngineConfiguration(models: [testModel], decodeTokensPerSecond: 100, maxRunning: 8),
            configure: {
                $0.admission.maxInFlight = 8
                $0.admission.perReplicaCap = 4
                $0.batch = testBatchSettings()
                $0.batch?.reservedShare = 0.5
                $0.batch?.pauseAboveInteractiveShare = 1
            }
        ).run { harness in
            let created = try await harness.createBatch(batchInput(80, maxTokens: 10))
            let id = try #require(created["id"] as? String)
            try await harness.eventually("the batch holds its share") { harness.gateway.inFlight >= 4 }
            // Alone, the batch holds at most its share: 4 of 8 admission slots, 2 of 4 per replica.
            for _ in 0..<100 {
                let snapshot = harness.gateway.snapshot()
                #expect(harness.gateway.inFlight <= 4)
                #expect(snapshot.replicas.allSatisfy { $0.outstanding <= 2 }, "\(snapshot.replicas.map(\.outstanding))")
                try await Task.sleep(for: .milliseconds(3))
            }
            var statuses: [Int] = []
            for round in 0..<5 {
                let results = try await withThrowingTaskGroup(of: Int.self) { group in
                    for index in 0..<4 {
                        group.addTask {
                            try await harness.post(
                                "/v1/chat/completions",
                                body: harness.chat(
                                    [("user", "interactive \(round)-\(index)")],
                                    stream: false,
                                    maxTokens: 5
                                )
                            ).status
                        }
                    }
                    var all: [Int] = []
                    for try await status in group { all.append(status) }
                    return all
                }
                statuses += results
            }
            #expect(statuses.count == 20)
            #expect(statuses.allSatisfy { $0 == 200 }, "\(statuses)")
            let batch = try await harness.waitForBatch(id)
            #expect((batch["request_counts"] as? [String: Int])?["completed"] == 80)
            let interactive = harness.engines.flatMap(\.stats.recentRequests).filter { $0.priority == nil }
            #expect(!interactive.isEmpty)
        }
    }

    @Test("batch dispatch pauses while interactive load is above its share")
    func pauses() async throws {
        // Slow enough that the two held streams (1,000 tokens each) cannot finish, or be buffered whole by the
        // loopback sockets, during the observation window, whatever the machine's load.
        try await gatewayFixture(
            engine: MockEngineConfiguration(models: [testModel], decodeTokensPerSecond: 50),
            configure: {
                $0.admission.maxInFlight = 4
                $0.batch = testBatchSettings()
                $0.batch?.pauseAboveInteractiveShare = 0.25
            }
        ).run { harness in
            var streams: [(Task<Void, any Error>, AsyncStream<Void>.Continuation)] = []
            for index in 0..<2 { streams.append(try await openStream(harness, "hold \(index)")) }
            let created = try await harness.createBatch(batchInput(5))
            let id = try #require(created["id"] as? String)
            try await Task.sleep(for: .milliseconds(400))
            let during = harness.object(try await harness.get("/v1/batches/\(id)").body)
            #expect((during["request_counts"] as? [String: Int])?["completed"] == 0)
            for (task, release) in streams {
                release.yield()
                release.finish()
                _ = await task.result
            }
            let batch = try await harness.waitForBatch(id)
            #expect((batch["request_counts"] as? [String: Int])?["completed"] == 5)
        }
    }
}
