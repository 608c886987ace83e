import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle

/// Delivers batch events from the outbox (written in the transaction that ended the batch): claims due
/// deliveries, POSTs each with Standard Webhooks headers, and retries failures with exponential backoff and
/// jitter until `retryForHours` have passed since the event. Receivers dedupe on `webhook-id`.
///
/// The URL is checked before every delivery (``WebhookTargetPolicy``): a host that resolves to a loopback,
/// private or link-local address is refused unless `allowPrivateHosts` names it.
final class WebhookSender: Service, Sendable {
    let queue: any BatchQueue
    let settings: BatchWebhookConfiguration
    let clock: any BatchClock
    let client: HTTPClient
    let logger: Logger
    let signer: WebhookSigner
    let retry: BatchRetryPolicy

    init(
        queue: any BatchQueue,
        settings: BatchWebhookConfiguration,
        clock: any BatchClock,
        client: HTTPClient,
        logger: Logger
    ) {
        self.queue = queue
        self.settings = settings
        self.clock = clock
        self.client = client
        self.logger = logger
        self.signer = WebhookSigner(secret: settings.secret)
        self.retry = BatchRetryPolicy(maxAttempts: 1_000, baseMillis: 1_000, capMillis: 3_600_000)
    }

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            var sent = 0
            do {
                let due = try await queue.claimWebhooks(now: clock.nowMillis(), limit: 16, leaseMillis: 60_000)
                sent = due.count
                await withDiscardingTaskGroup { group in
                    for delivery in due { group.addTask { await self.deliver(delivery) } }
                }
            } catch {
                logger.error("webhooks: claiming deliveries failed", metadata: ["error": "\(error)"])
            }
            if sent == 0 { try? await Task.sleep(for: .milliseconds(250)) }
        }
    }

    /// One delivery attempt, and its record.
    func deliver(_ delivery: WebhookDelivery) async {
        let outcome = await post(delivery)
        let now = clock.nowMillis()
        var retryAt: Int64?
        if outcome != nil {
            var generator = SystemRandomNumberGenerator()
            let next = now + retry.delayMillis(after: delivery.attempts + 1, using: &generator)
            if next - delivery.createdAt < Int64(settings.retryForHours * 3_600_000) { retryAt = next }
        }
        do {
            try await queue.webhookAttempted(
                id: delivery.id,
                now: now,
                delivered: outcome == nil,
                retryAt: retryAt,
                error: outcome
            )
        } catch {
            logger.error("webhooks: recording a delivery failed", metadata: ["error": "\(error)"])
        }
        if let outcome {
            logger.warning(
                retryAt == nil ? "webhook abandoned" : "webhook delivery failed; will retry",
                metadata: ["webhook_id": "\(delivery.id)", "event": "\(delivery.event)", "error": "\(outcome)"]
            )
        }
    }

    /// POSTs the event; nil when the receiver answered 2xx, else what went wrong.
    private func post(_ delivery: WebhookDelivery) async -> String? {
        do {
            try await WebhookTargetPolicy(allowPrivateHosts: settings.allowPrivateHosts).check(settings.url)
        } catch {
            return "\(error)"
        }
        let timestamp = clock.nowMillis() / 1_000
        var request = HTTPClientRequest(url: settings.url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "user-agent", value: "prefix-gateway-webhooks")
        for (name, value) in signer.headers(id: delivery.id, timestamp: timestamp, body: delivery.payload) {
            request.headers.add(name: name, value: value)
        }
        request.body = .bytes(ByteBuffer(string: delivery.payload))
        do {
            let response = try await client.execute(
                request,
                timeout: .milliseconds(Int64(settings.timeoutSeconds * 1_000))
            )
            _ = try? await response.body.collect(upTo: 64 << 10)
            let status = Int(response.status.code)
            return (200..<300).contains(status) ? nil : "status \(status)"
        } catch {
            return "\(error)"
        }
    }
}
