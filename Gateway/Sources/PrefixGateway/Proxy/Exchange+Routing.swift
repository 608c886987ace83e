import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import PrefixRouter

/// Routing and connecting: the replica chosen by the router, excluding those already tried, and a connection
/// to it; a connection failure is retried on another replica (`upstream.retries`), anything else answered.
extension Exchange {
    /// Routes and connects, retrying another replica after a connection failure.
    func start() {
        while case .routing = state, let request {
            guard let decision = core.router.route(request.routing, excluding: excluded) else {
                if let lastFailure {  // every replica tried failed: report that, not a capacity problem
                    answer(lastFailure == .timeout ? .upstreamTimeout : .upstreamFailed, retryHeaders: false)
                } else {
                    refuseForCapacity()
                }
                return
            }
            core.metrics.decision(decision.reason)
            let lease = LeaseHandle(decision.lease)
            guard let replica = request.directory.endpoints[decision.replica] else {
                lease.release()  // removed by a reload since the directory was read
                excluded.append(decision.replica)
                continue
            }
            connector.connect(to: replica, on: eventLoop).assumeIsolated().whenComplete { result in
                self.connected(result, to: replica, lease: lease)
            }
            return
        }
    }

    func connected(_ result: Result<any Channel, any Error>, to replica: ReplicaEndpoint, lease: LeaseHandle) {
        switch result {
        case .success(let channel):
            guard case .routing = state, let request else {  // the client left meanwhile
                lease.release()
                channel.close(promise: nil)
                return
            }
            let handler = UpstreamHandler(
                exchange: self,
                head: upstreamHead(to: replica),
                body: request.body,
                headTimeout: Self.amount(
                    record.stream
                        ? core.configuration.upstream.streamHeadTimeoutSeconds
                        : core.configuration.upstream.requestTimeoutSeconds
                ),
                readTimeout: Self.amount(core.configuration.upstream.readTimeoutSeconds)
            )
            self.lease = lease
            self.replica = replica.id
            self.upstream = handler
            state = .awaitingHead
            do {
                try channel.pipeline.syncOperations.addHTTPClientHandlers()
                try channel.pipeline.syncOperations.addHandler(handler)
            } catch {
                channel.close(promise: nil)
                upstreamFailed(.other, "\(error)")
            }
        case .failure(let error):
            lease.release()
            guard case .routing = state else { return }
            failedBeforeHead(UpstreamFailure.classify(error) ?? .other, "\(error)", replica: replica.id)
        }
    }

    /// A failure before any response head: counted against the replica, retried elsewhere when nothing
    /// reached it (a connection failure), answered 502 or 504 otherwise.
    func failedBeforeHead(_ failure: UpstreamFailure, _ description: String, replica: ReplicaID) {
        core.metrics.upstreamError(replica: replica, kind: failure.rawValue)
        if failure.countsAgainstReplica { core.health.requestFailed(replica) }
        record.logger.warning(
            "upstream request failed",
            metadata: ["replica": "\(replica)", "failure": "\(failure.rawValue)", "error": "\(description)"]
        )
        lastFailure = failure
        if failure.isRetryable && retriesLeft > 0 {
            retriesLeft -= 1
            excluded.append(replica)
            core.metrics.retry(endpoint: record.endpoint.label)
            state = .routing
            start()
            return
        }
        answer(failure == .timeout ? .upstreamTimeout : .upstreamFailed, retryHeaders: false)
    }

    /// The answer when the router found no replica: 429 when replicas serving the model are up but all at
    /// their cap, 503 when none is up (or all failed).
    func refuseForCapacity() {
        let skip = Set(excluded)
        let available = core.router.snapshot().replicas.contains { $0.isEligible && !skip.contains($0.id) }
        core.metrics.rejection(available ? "replica_cap" : "no_replica")
        answer(available ? .atCapacity : .noReplica, retryHeaders: true)
    }

    static func amount(_ seconds: Double) -> TimeAmount { .milliseconds(Int64(seconds * 1_000)) }

    func upstreamHead(to replica: ReplicaEndpoint) -> HTTPRequestHead {
        var headers = HTTPHeaders()
        headers.reserveCapacity(7)
        headers.add(name: "host", value: replica.hostHeader)
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "accept", value: record.stream ? "text/event-stream" : "application/json")
        headers.add(name: "x-request-id", value: record.requestID)
        if let authorization = replica.authorization {
            headers.add(name: "authorization", value: authorization)
        }
        headers.add(name: "content-length", value: "\(request?.body.readableBytes ?? 0)")
        headers.add(name: "connection", value: "close")
        return HTTPRequestHead(
            version: .http1_1,
            method: .POST,
            uri: replica.basePath + record.endpoint.rawValue,
            headers: headers
        )
    }
}
