import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers
import Testing

@testable import PrefixGateway

/// Webhooks: Standard Webhooks signatures, retries with one `webhook-id`, and the SSRF allow-list.
@Suite("BatchWebhooks", .serialized)
struct BatchWebhookTests {
    /// One received delivery.
    struct Delivery: Sendable {
        var id: String
        var timestamp: String
        var signature: String
        var body: String
    }

    /// A receiver on 127.0.0.1 answering with `statuses` in turn (then 200); stopped after `body`.
    func withReceiver(
        statuses: [Int],
        _ body: (Int, NIOLockedValueBox<[Delivery]>) async throws -> Void
    ) async throws {
        let received = NIOLockedValueBox<[Delivery]>([])
        let router = Router()
        router.post("hook") { request, _ -> Response in
            var request = request
            let bytes = try await request.collectBody(upTo: 1 << 20)
            let count = received.withLockedValue { list in
                list.append(
                    Delivery(
                        id: request.headers.first { $0.name.canonicalName == "webhook-id" }?.value ?? "",
                        timestamp: request.headers.first { $0.name.canonicalName == "webhook-timestamp" }?.value ?? "",
                        signature: request.headers.first { $0.name.canonicalName == "webhook-signature" }?.value ?? "",
                        body: String(buffer: bytes)
                    )
                )
                return list.count
            }
            return Response(status: .init(code: count <= statuses.count ? statuses[count - 1] : 200))
        }
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }
        )
        let server = Task { try await app.runService() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw CancellationError() }
        do {
            try await body(port, received)
        } catch {
            server.cancel()
            _ = await server.result
            throw error
        }
        server.cancel()
        _ = await server.result
    }

    @Test("500, 500, 200: three signed deliveries of one event, one webhook-id")
    func retried() async throws {
        let secret = "whsec_" + Data("a test signing key".utf8).base64EncodedString()
        try await withReceiver(statuses: [500, 500]) { port, received in
            try await gatewayFixture(configure: {
                $0.batch = testBatchSettings()
                var hook = BatchWebhookConfiguration(url: "http://127.0.0.1:\(port)/hook", secret: secret)
                hook.allowPrivateHosts = ["127.0.0.1"]
                $0.batch?.webhook = hook
            }).run { harness in
                let created = try await harness.createBatch(batchInput(2))
                let id = try #require(created["id"] as? String)
                _ = try await harness.waitForBatch(id)
                try await harness.eventually("three deliveries", seconds: 20) {
                    received.withLockedValue { $0.count } >= 3
                }
                try await Task.sleep(for: .milliseconds(300))
                let deliveries = received.withLockedValue { $0 }
                #expect(deliveries.count == 3)
                #expect(Set(deliveries.map(\.id)).count == 1)
                let key = SymmetricKey(data: Data("a test signing key".utf8))
                for delivery in deliveries {
                    let mac = HMAC<SHA256>.authenticationCode(
                        for: Data("\(delivery.id).\(delivery.timestamp).\(delivery.body)".utf8),
                        using: key
                    )
                    #expect(delivery.signature == "v1," + Data(mac).base64EncodedString())
                    let payload = harness.object(delivery.body)
                    #expect(payload["type"] as? String == "batch.completed")
                    #expect((payload["data"] as? [String: Any])?["id"] as? String == id)
                }
            }
        }
    }

    @Test("a webhook URL on a private address is refused without the allow-list")
    func ssrf() async throws {
        try await withReceiver(statuses: []) { port, received in
            try await gatewayFixture(configure: {
                $0.batch = testBatchSettings()
                $0.batch?.webhook = BatchWebhookConfiguration(url: "http://127.0.0.1:\(port)/hook", secret: "s")
            }).run { harness in
                let created = try await harness.createBatch(batchInput(1))
                _ = try await harness.waitForBatch(try #require(created["id"] as? String))
                try await Task.sleep(for: .milliseconds(500))
                #expect(received.withLockedValue { $0.count } == 0)
            }
        }
        let policy = WebhookTargetPolicy(allowPrivateHosts: [])
        for address in [
            "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "::1", "fd00::1",
            "0.0.0.0",
        ] {
            #expect(WebhookTargetPolicy.isPrivate(address), "\(address)")
        }
        for address in ["8.8.8.8", "1.1.1.1", "2606:4700::1111"] {
            #expect(!WebhookTargetPolicy.isPrivate(address), "\(address)")
        }
        await #expect(throws: WebhookTargetPolicy.Refused.self) { try await policy.check("http://localhost:9/hook") }
        await #expect(throws: WebhookTargetPolicy.Refused.self) { try await policy.check("ftp://example.com/") }
        try await WebhookTargetPolicy(allowPrivateHosts: ["localhost:9"]).check("http://localhost:9/hook")
    }
}
