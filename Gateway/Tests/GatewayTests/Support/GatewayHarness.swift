import AsyncHTTPClient
import Foundation
import Logging
import MockEngine
import NIOCore
import NIOHTTP1
import PrefixRouter
import Testing

@testable import PrefixGateway

/// A running gateway on 127.0.0.1 (ephemeral port) in front of mock engines, with a test client. Always
/// torn down by ``withGateway(engines:engine:configure:_:)``: gateway, client and engines stopped.
struct GatewayHarness: Sendable {
    let gateway: Gateway
    let port: Int
    let engines: [MockEngine]
    let client: HTTPClient
    let model: String

    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// A JSON POST; returns status, headers and the whole body as text.
    func post(
        _ path: String,
        body: String,
        headers: [(String, String)] = [],
        timeout: TimeAmount = .seconds(30)
    ) async throws -> (status: Int, headers: HTTPHeaders, body: String) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await client.execute(request, timeout: timeout)
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return (Int(response.status.code), response.headers, String(buffer: bytes))
    }

    /// A JSON POST to the gateway, to execute with ``client`` (e.g. a stream read part by part).
    func jsonRequest(_ path: String, body: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        return request
    }

    /// A GET; returns status, headers and body text.
    func get(
        _ path: String,
        headers: [(String, String)] = [],
        method: HTTPMethod = .GET
    ) async throws
        -> (status: Int, headers: HTTPHeaders, body: String)
    {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await client.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return (Int(response.status.code), response.headers, String(buffer: bytes))
    }

    /// A chat request body.
    func chat(_ messages: [(String, String)], stream: Bool = true, maxTokens: Int = 4, model: String? = nil) -> String {
        let list = messages.map { #"{"role":\#(jsonString($0.0)),"content":\#(jsonString($0.1))}"# }
        return
            #"{"model":\#(jsonString(model ?? self.model)),"stream":\#(stream),"max_tokens":\#(maxTokens),"messages":[\#(list.joined(separator: ","))]}"#
    }

    /// Waits until `condition` holds, polling; fails the test after `seconds` (a bound on an eventual
    /// condition, not a speed assertion).
    func eventually(
        _ what: String,
        seconds: Double = 20,
        _ condition: @Sendable () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1_000))
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("timed out waiting for: \(what)")
    }

    /// Asserts the gateway holds nothing: no admission slot, no lease, no outstanding request anywhere.
    func expectIdle(sourceLocation: SourceLocation = #_sourceLocation) async throws {
        try await eventually("gateway idle") {
            gateway.inFlight == 0 && gateway.snapshot().liveLeases == 0
                && gateway.snapshot().replicas.allSatisfy { $0.outstanding == 0 && $0.pendingPrefillTokens == 0 }
        }
        let snapshot = gateway.snapshot()
        #expect(gateway.inFlight == 0, sourceLocation: sourceLocation)
        #expect(snapshot.liveLeases == 0, sourceLocation: sourceLocation)
        #expect(snapshot.inFlight == 0, sourceLocation: sourceLocation)
        for replica in snapshot.replicas {
            #expect(replica.outstanding == 0, "\(replica.id)", sourceLocation: sourceLocation)
        }
    }

    /// The gateway's metric value for a sample line prefix (`gateway_upstream_retries_total{endpoint="chat_completions"}`), or 0.
    func metric(_ sample: String) async throws -> Double {
        let text = try await get("/metrics").body
        for line in text.split(separator: "\n") where line.hasPrefix(sample + " ") {
            return Double(line.dropFirst(sample.count + 1)) ?? 0
        }
        return 0
    }

    /// Which engine index received how many inference requests.
    var requestsPerEngine: [Int] { engines.map(\.stats.requestsReceived) }
}

func jsonString(_ text: String) -> String {
    let data = (try? JSONEncoder().encode(text)) ?? Data("\"\"".utf8)
    return String(decoding: data, as: UTF8.self)
}

let testModel = "test-model"

/// The arguments of `withGateway` as a value, so that a call with a `configure` closure can still end with a
/// single trailing closure: `gatewayFixture(…, configure: {…}).run { harness in … }`.
struct GatewayFixture {
    var engines: Int
    var engine: MockEngineConfiguration
    var extraReplicas: [ReplicaConfiguration]
    var configure: (inout GatewayConfiguration) -> Void

    /// Starts the engines and the gateway, runs `body`, then stops everything.
    func run(_ body: (GatewayHarness) async throws -> Void) async throws {
        try await withGateway(
            engines: engines,
            engine: engine,
            extraReplicas: extraReplicas,
            configure: configure,
            body
        )
    }
}

/// A `GatewayFixture` with `withGateway`'s defaults.
func gatewayFixture(
    engines count: Int = 2,
    engine: MockEngineConfiguration = MockEngineConfiguration(models: [testModel], decodeTokensPerSecond: 2_000),
    extraReplicas: [ReplicaConfiguration] = [],
    configure: @escaping (inout GatewayConfiguration) -> Void = { _ in }
) -> GatewayFixture {
    GatewayFixture(engines: count, engine: engine, extraReplicas: extraReplicas, configure: configure)
}

/// Starts `engines` mock engines and a gateway in front of them, runs `body`, then stops everything.
func withGateway(
    engines count: Int = 2,
    engine: MockEngineConfiguration = MockEngineConfiguration(models: [testModel], decodeTokensPerSecond: 2_000),
    extraReplicas: [ReplicaConfiguration] = [],
    configure: (inout GatewayConfiguration) -> Void = { _ in },
    _ body: (GatewayHarness) async throws -> Void
) async throws {
    var logger = Logger(label: "gateway-test")
    logger.logLevel = .warning
    var engines: [MockEngine] = []
    defer {}
    var configuration = GatewayConfiguration()
    configuration.listen.port = 0
    configuration.health.activeChecks = false
    configuration.shutdown.gracePeriodSeconds = 10
    do {
        for _ in 0..<count {
            var engineLogger = logger
            engineLogger.logLevel = .error
            let mock = MockEngine(configuration: engine, logger: engineLogger)
            engines.append(mock)
            let port = try await mock.start()
            configuration.replicas.append(ReplicaConfiguration(url: "http://127.0.0.1:\(port)", models: engine.models))
        }
        configuration.replicas += extraReplicas
        configure(&configuration)
        let gateway = try Gateway(configuration: configuration, logger: logger)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let server = Task { try await gateway.run(gracefulShutdownSignals: []) { continuation.yield($0) } }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.httpVersion = .http1Only
        clientConfiguration.connectionPool = .init(
            idleTimeout: .seconds(30),
            concurrentHTTP1ConnectionsPerHostSoftLimit: 64
        )
        clientConfiguration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: clientConfiguration)
        let harness = GatewayHarness(
            gateway: gateway,
            port: port,
            engines: engines,
            client: client,
            model: engine.models.first ?? testModel
        )
        var failure: (any Error)?
        do {
            try await body(harness)
        } catch {
            failure = error
        }
        try? await client.shutdown()
        await gateway.triggerGracefulShutdown()
        _ = await server.result
        for mock in engines { await mock.stop() }
        if let failure { throw failure }
    } catch {
        for mock in engines { await mock.stop() }
        throw error
    }
}

/// A port with nothing listening on it: a mock engine's, after it stopped.
func deadPort() async throws -> Int {
    let mock = MockEngine(configuration: MockEngineConfiguration())
    let port = try await mock.start()
    await mock.stop()
    return port
}

/// Opens a stream and returns once its first chunk arrived; the client keeps it open until the returned
/// continuation yields, then stops reading and drops it (a hang-up if the stream has not ended).
func openStream(
    _ harness: GatewayHarness,
    _ text: String
) async throws
    -> (Task<Void, any Error>, AsyncStream<Void>.Continuation)
{
    let (opened, openedContinuation) = AsyncStream<Void>.makeStream()
    let (release, releaseContinuation) = AsyncStream<Void>.makeStream()
    let client = harness.client
    let url = harness.baseURL + "/v1/chat/completions"
    let body = harness.chat([("user", text)], maxTokens: 1_000)
    let task = Task {
        defer { openedContinuation.finish() }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await client.execute(request, timeout: .seconds(30))
        var iterator = response.body.makeAsyncIterator()
        _ = try await iterator.next()
        openedContinuation.yield()
        var wait = release.makeAsyncIterator()
        _ = await wait.next()
    }
    var iterator = opened.makeAsyncIterator()
    _ = await iterator.next()
    return (task, releaseContinuation)
}
