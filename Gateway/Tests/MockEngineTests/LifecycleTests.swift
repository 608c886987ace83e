import AsyncHTTPClient
import Foundation
import MockEngine
import NIOCore
import NIOHTTP1
import Testing

@Suite("Start and stop")
struct LifecycleTests {
    @Test("An engine starts once; stop is idempotent, also before start")
    func startStop() async throws {
        let unstarted = MockEngine(configuration: MockEngineConfiguration(), logger: quietLogger)
        await unstarted.stop()
        await #expect(throws: MockEngineError.alreadyStarted) { _ = try await unstarted.start() }

        let engine = MockEngine(configuration: MockEngineConfiguration(), logger: quietLogger)
        let port = try await engine.start()
        #expect(port > 0)
        await #expect(throws: MockEngineError.alreadyStarted) { _ = try await engine.start() }
        async let first: Void = engine.stop()
        async let second: Void = engine.stop()
        _ = await (first, second)
        await engine.stop()
    }

    @Test("A bad configuration or a port in use fails start instead of hanging")
    func startFailures() async throws {
        let invalid = MockEngine(configuration: MockEngineConfiguration(maxRunning: 0), logger: quietLogger)
        await #expect(throws: MockEngineError.self) { _ = try await invalid.start() }

        try await withEngine { _, client in
            let clash = MockEngine(configuration: MockEngineConfiguration(port: client.port), logger: quietLogger)
            await #expect(throws: (any Error).self) { _ = try await clash.start() }
            await clash.stop()
        }
    }

    @Test("stop waits the grace period for a long stream, then cuts it; the port is closed")
    func stopWithStreams() async throws {
        let configuration = MockEngineConfiguration(
            decodeTokensPerSecond: 100,
            shutdownGracePeriod: .milliseconds(300)
        )
        let engine = MockEngine(configuration: configuration, logger: quietLogger)
        let port = try await engine.start()
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let client = EngineClient(http: http, port: port)
        let long = StreamReader(client, json: chatJSON("long", maxTokens: 100_000, stream: true))
        #expect(await eventually { long.events.count >= 2 })
        let start = ContinuousClock.now
        await engine.stop()
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(290))
        #expect(elapsed < .seconds(5))
        await #expect(throws: (any Error).self) { _ = try await long.finish() }
        // AHC retries refused connections until the deadline: keep it short.
        await #expect(throws: (any Error).self) {
            _ = try await client.send(.GET, "/health", timeout: .milliseconds(500))
        }
        try await http.shutdown()
    }

    @Test("stop does not wait the grace period for a stalled stream")
    func stopWithStall() async throws {
        let configuration = MockEngineConfiguration(
            faults: MockEngineFaults(stallAfterTokens: 1),
            shutdownGracePeriod: .seconds(30)
        )
        let engine = MockEngine(configuration: configuration, logger: quietLogger)
        let port = try await engine.start()
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let stalled = StreamReader(
            EngineClient(http: http, port: port),
            json: chatJSON("x", maxTokens: 5, stream: true)
        )
        #expect(await eventually { stalled.events.count == 2 })
        let start = ContinuousClock.now
        await engine.stop()
        #expect(ContinuousClock.now - start < .seconds(10))
        await #expect(throws: (any Error).self) { _ = try await stalled.finish() }
        #expect(engine.stats.requestsFailed == 1)
        try await http.shutdown()
    }
}
