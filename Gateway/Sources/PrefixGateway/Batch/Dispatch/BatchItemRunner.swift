import AsyncHTTPClient
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import PrefixRouter

/// How one attempt of an item went.
enum BatchAttempt: Sendable, Equatable {
    /// A final answer (2xx, or a 4xx another attempt would not change): write it.
    case done(ItemOutcome)
    /// A 429, a 5xx or a connection failure: try again after a backoff (at least `retryAfterMillis`), or,
    /// when the attempts are used up, write `last`.
    case retry(reason: String, retryAfterMillis: Int64?, last: ItemOutcome)
    /// Nothing reached an engine (no spare capacity, no replica up, shutting down): hand the item back
    /// without counting the attempt.
    case notStarted(reason: String)
}

/// Sends one batch item through the gateway's router, as an interactive request goes (prefix affinity,
/// leases, health), but only into spare capacity: an admission slot outside the interactive reserve and a
/// replica below its batch cap; the body carries vLLM's `priority`.
struct BatchItemRunner: Sendable {
    let core: GatewayCore
    let client: HTTPClient
    let capacity: BatchCapacity
    /// Serialises batch routing (the cap check and the route), so that concurrent batch items cannot all
    /// pass the per-replica check on the same snapshot: a replica's batch work never exceeds its batch cap.
    let routingLock = NIOLock()

    /// One item routed and holding its admission slot and replica lease, ready to send.
    struct RoutedItem: Sendable {
        let item: ClaimedItem
        let endpoint: CompletionEndpoint
        let replica: ReplicaEndpoint
        let lease: LeaseHandle
    }

    /// How ``route(_:)`` went: a routed item to ``send(_:)``, or an attempt already decided.
    enum Routing: Sendable {
        case routed(RoutedItem)
        case decided(BatchAttempt)
    }

    /// Routes one item, synchronously: takes a spare admission slot and a replica lease (both held until
    /// ``send(_:)`` ends), so that the dispatcher's next capacity check already counts it. An item that
    /// cannot be routed is decided at once (``BatchAttempt/notStarted(reason:)`` or an error line).
    func route(_ item: ClaimedItem) -> Routing {
        guard let endpoint = CompletionEndpoint(rawValue: item.endpoint) else {
            return .decided(.done(.error(code: "invalid_endpoint", message: "Unknown endpoint \(item.endpoint).")))
        }
        let runtime = core.runtime
        let parsed: CompletionRequest
        do {
            parsed = try CompletionRequest.decode(item.body, endpoint: endpoint)
        } catch {
            return .decided(.done(.error(code: "invalid_body", message: "body: \(error.message)")))
        }
        guard let exclusions = runtime.directory.exclusions[item.model],
            let routing = runtime.keys.routingRequest(for: parsed, sessionKey: parsed.promptCacheKey ?? parsed.user)
        else {
            return .decided(
                .done(
                    .error(
                        code: "model_not_found",
                        message: "The model '\(item.model)' is no longer served by this gateway."
                    )
                )
            )
        }
        guard core.gate.tryAcquire(keepingFree: capacity.reservedSlots) else {
            return .decided(.notStarted(reason: "no spare admission slot"))
        }
        let chosen = routingLock.withLock {
            core.router.route(routing, excluding: exclusions + capacity.fullReplicas(core.router.snapshot()))
        }
        guard let decision = chosen else {
            core.gate.release()
            return .decided(.notStarted(reason: "no replica with spare capacity"))
        }
        let lease = LeaseHandle(decision.lease)
        guard let replica = runtime.directory.endpoints[decision.replica] else {
            lease.release()
            core.gate.release()
            return .decided(.notStarted(reason: "replica removed"))
        }
        core.metrics.decision(decision.reason)
        return .routed(RoutedItem(item: item, endpoint: endpoint, replica: replica, lease: lease))
    }

    /// Sends a routed item to its replica and reads the answer; gives the admission slot and the lease
    /// back however it ends.
    func send(_ routed: RoutedItem) async -> BatchAttempt {
        let (item, replica, lease) = (routed.item, routed.replica, routed.lease)
        defer {
            lease.release()
            core.gate.release()
        }
        let requestID = RequestIdentity.generate()
        var request = HTTPClientRequest(url: replica.url(routed.endpoint.rawValue))
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "accept", value: "application/json")
        request.headers.add(name: "x-request-id", value: requestID)
        if let authorization = replica.authorization {
            request.headers.add(name: "authorization", value: authorization)
        }
        request.body = .bytes(ByteBuffer(bytes: item.body))
        let settings = core.configuration.upstream
        do {
            let response = try await client.execute(
                request,
                timeout: .milliseconds(Int64(settings.requestTimeoutSeconds * 1_000))
            )
            let bytes = try await response.body.collect(upTo: settings.maxResponseBytes)
            lease.reportFirstToken()
            let status = Int(response.status.code)
            if status == 502 || status == 503 || status == 504 {
                core.health.requestFailed(replica.id)
            } else {
                core.health.requestSucceeded(replica.id)
            }
            let outcome = ItemOutcome.response(statusCode: status, requestID: requestID, body: Array(buffer: bytes))
            guard BatchRetryPolicy.isRetryable(status: status) else { return .done(outcome) }
            return .retry(
                reason: "status \(status)",
                retryAfterMillis: Self.retryAfter(response.headers),
                last: outcome
            )
        } catch {
            guard let failure = UpstreamFailure.classify(error) else { return .notStarted(reason: "cancelled") }
            core.metrics.upstreamError(replica: replica.id, kind: failure.rawValue)
            if failure.countsAgainstReplica { core.health.requestFailed(replica.id) }
            return .retry(
                reason: "upstream \(failure.rawValue)",
                retryAfterMillis: nil,
                last: .error(code: "upstream_\(failure.rawValue)", message: "The replica failed: \(failure.rawValue).")
            )
        }
    }

    /// The engine's `retry-after-ms`, else `Retry-After` seconds.
    static func retryAfter(_ headers: HTTPHeaders) -> Int64? {
        if let text = headers.first(name: "retry-after-ms"), let millis = Double(text), millis >= 0 {
            return Int64(millis)
        }
        if let text = headers.first(name: "retry-after"), let seconds = Int64(text), seconds >= 0 {
            return seconds * 1_000
        }
        return nil
    }
}
