import AsyncHTTPClient
import Foundation
import Hummingbird
import HummingbirdTesting
import MockEngine
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import PrefixRouter
import Synchronization
import Testing

@testable import PrefixGateway

/// The completion endpoints served in the connection's channel (``CompletionIntake`` and ``Exchange``): what
/// the other suites do not reach: backpressure against a replica faster than its client, hang-ups while
/// waiting for a non-streamed answer, connections shared with Hummingbird's routes.
@Suite("Exchange in the channel", .serialized)
struct ExchangeTests {
    /// A replica that streams SSE as fast as its client takes it, and counts what it managed to write.
    private struct FloodingReplica {
        let written = Arc()
        let finished = Arc()

        final class Arc: Sendable {
            let value = Atomic<Int>(0)
        }

        func application() -> some ApplicationProtocol {
            let router = Hummingbird.Router()
            let written = self.written
            let finished = self.finished
            router.post("v1/chat/completions") { _, _ -> Response in
                let chunk = ByteBuffer(string: "data: " + String(repeating: "x", count: 16 * 1_024) + "\n\n")
                return Response(
                    status: .ok,
                    headers: [.contentType: "text/event-stream"],
                    body: ResponseBody { writer in
                        defer { finished.value.add(1, ordering: .relaxed) }
                        // Up to 2 GiB: far more than any buffer on the way may hold.
                        for _ in 0..<(128 * 1_024) {
                            try await writer.write(chunk)
                            written.value.add(chunk.readableBytes, ordering: .relaxed)
                        }
                        try await writer.finish(nil)
                    }
                )
            }
            return Application(router: router)
        }
    }

    // Catches: a relay that reads the replica regardless of its client (the bytes the replica writes would
    // grow without bound, into the gateway's memory), and a hang-up that does not reach the replica.
    @Test("a client that stops reading stops the replica's writes; its hang-up ends the replica's response")
    func backpressure() async throws {
        let replica = FloodingReplica()
        try await replica.application().test(.live) { upstream in
            let port = try #require(upstream.port)
            let extra = ReplicaConfiguration(url: "http://127.0.0.1:\(port)", models: [testModel])
            try await withGateway(engines: 0, extraReplicas: [extra]) { harness in
                var request = HTTPClientRequest(url: harness.baseURL + "/v1/chat/completions")
                request.method = .POST
                request.headers.add(name: "content-type", value: "application/json")
                request.body = .bytes(ByteBuffer(string: harness.chat([("user", "flood")])))
                let reader = Task {
                    let response = try await harness.client.execute(request, timeout: .seconds(30))
                    #expect(response.status == .ok)
                    var iterator = response.body.makeAsyncIterator()
                    _ = try await iterator.next()  // one chunk, then no more reads: the client is stalled
                    try await Task.sleep(for: .seconds(3))
                }
                try await harness.eventually("the replica wrote") { replica.written.value.load(ordering: .relaxed) > 0 }
                try await Task.sleep(for: .seconds(1))
                let early = replica.written.value.load(ordering: .relaxed)
                try await Task.sleep(for: .seconds(1))
                let late = replica.written.value.load(ordering: .relaxed)
                // The kernel's socket buffers hold the most: on Linux loopback they autotune up to tcp_rmem's
                // maximum (often 32 MiB) plus tcp_wmem's (4 MiB) per connection, and there are two; the
                // gateway's own buffers hold one read. Unbounded relaying would pass the 2 GiB on offer.
                #expect(late < 160 << 20, "the replica wrote \(late) bytes to a client that reads nothing")
                #expect(late - early < 1 << 20, "the replica kept writing: \(early) then \(late) bytes")
                reader.cancel()
                _ = await reader.result
                try await harness.eventually("the replica's response ended") {
                    replica.finished.value.load(ordering: .relaxed) == 1
                }
                try await harness.expectIdle()
                let hungUp = try await harness.metric(
                    #"gateway_requests_total{endpoint="chat_completions",model="test-model",status="499"}"#
                )
                #expect(hungUp == 1, "the hang-up is recorded once")
            }
        }
    }

    // Catches: a hang-up noticed only once the answer's head arrives (a non-streamed answer's head comes
    // after the whole generation), and a slot or lease released twice or never.
    @Test("a client that leaves while waiting for a non-streamed answer cancels it upstream, once")
    func hangUpBeforeHead() async throws {
        let slow = MockEngineConfiguration(models: [testModel], decodeTokensPerSecond: 10, defaultMaxTokens: 1_000)
        try await withGateway(engines: 1, engine: slow) { harness in
            let body = harness.chat([("user", "a long answer")], stream: false, maxTokens: 1_000)
            let request = Task { try await harness.post("/v1/chat/completions", body: body) }
            try await harness.eventually("generating") { harness.engines[0].stats.running == 1 }
            #expect(harness.gateway.inFlight == 1)
            request.cancel()
            _ = await request.result
            try await harness.eventually("the engine saw the cancellation") {
                harness.engines[0].stats.requestsCancelled == 1
            }
            try await harness.expectIdle()
            let hungUp = try await harness.metric(
                #"gateway_requests_total{endpoint="chat_completions",model="test-model",status="499"}"#
            )
            #expect(hungUp == 1)
        }
    }

    // Catches: an intake that sends a kept-alive connection's later requests to the wrong side, or answers
    // a completion without closing its connection as its `connection: close` says.
    @Test("one connection: Hummingbird's routes, then a completion, which ends the connection")
    func sharedConnection() async throws {
        try await withGateway(engines: 1) { harness in
            for _ in 0..<3 {
                #expect(try await harness.get("/health").status == 200)
                let reply = try await harness.post(
                    "/v1/chat/completions",
                    body: harness.chat([("user", "hi")], stream: false)
                )
                #expect(reply.status == 200)
                #expect(reply.headers.first(name: "connection") == "close")
                #expect(try await harness.get("/v1/models").status == 200)
                let refused = try await harness.post("/v1/completions", body: "{")
                #expect(refused.status == 400)
                #expect(refused.headers.first(name: "connection") == "close")
            }
            #expect(try await harness.get("/v1/chat/completions").status == 405)
            try await harness.expectIdle()
        }
    }

    /// Collects everything a connection receives until the server closes it.
    private final class Collector: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let received: EventLoopPromise<String>
        private let bytes = NIOLockedValueBox(ByteBuffer())

        init(_ promise: EventLoopPromise<String>) { received = promise }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var chunk = unwrapInboundIn(data)
            bytes.withLockedValue { _ = $0.writeBuffer(&chunk) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            received.succeed(bytes.withLockedValue { String(buffer: $0) })
        }
    }

    // Catches: a completion pipelined behind a request for Hummingbird answered before it (HTTP/1.1 answers
    // come in request order), or never.
    @Test("a completion pipelined behind a Hummingbird request is answered after it, in order")
    func pipelined() async throws {
        try await withGateway(engines: 1) { harness in
            let body = harness.chat([("user", "hi")], stream: false)
            let requests =
                "GET /health HTTP/1.1\r\nhost: gateway\r\n\r\n"
                + "POST /v1/chat/completions HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\n"
                + "content-length: \(body.utf8.count)\r\n\r\n\(body)"
            let group = MultiThreadedEventLoopGroup.singleton
            let promise = group.next().makePromise(of: String.self)
            let collector = Collector(promise)
            let channel = try await ClientBootstrap(group: group)
                .channelInitializer { channel in channel.pipeline.addHandler(collector) }
                .connect(host: "127.0.0.1", port: harness.port)
                .get()
            try await channel.writeAndFlush(ByteBuffer(string: requests))
            let text = try await promise.futureResult.get()
            let health = try #require(text.range(of: #"{"status":"ok"}"#), "\(text)")
            let completion = try #require(text.range(of: #""object":"chat.completion""#), "\(text)")
            #expect(health.lowerBound < completion.lowerBound)
            #expect(text.components(separatedBy: "HTTP/1.1 200 OK").count == 3, "two answers: \(text)")
            try await harness.expectIdle()
        }
    }

    // Catches: exchanges outliving the gateway's run (they hold no task the service group could cancel).
    @Test("streams still open when the shutdown grace period ends are closed, and everything is released")
    func gracePeriodEnds() async throws {
        let slow = MockEngineConfiguration(models: [testModel], decodeTokensPerSecond: 5, defaultMaxTokens: 1_000)
        try await gatewayFixture(engines: 1, engine: slow, configure: { $0.shutdown.gracePeriodSeconds = 0.5 }).run {
            harness in
            let (task, _) = try await openStream(harness, "a long story")
            await harness.gateway.triggerGracefulShutdown()
            try await harness.eventually("the engine saw the cancellation") {
                harness.engines[0].stats.requestsCancelled == 1
            }
            task.cancel()
            _ = await task.result
            try await harness.expectIdle()
        }
    }
}
