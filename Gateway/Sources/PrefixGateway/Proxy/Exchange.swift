import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import PrefixRouter

/// One admitted, decoded, routable completion request on its way to a replica and back, with no task: a
/// state machine driven by the client channel's handler (``CompletionIntake``) and the replica channel's
/// (``UpstreamHandler``), both on the client channel's event loop.
///
/// It owns the admission slot (in its ``RequestRecord``) and, from routing on, the replica's lease, and
/// releases both exactly once on every way out: the normal end, the client hanging up (which closes the
/// upstream connection, so that the engine stops generating), an upstream failure or timeout.
///
/// A streamed 200 is relayed part by part as it arrives, with backpressure (``UpstreamHandler`` holds its
/// reads while the client's channel is not writable); any other answer (not streamed, or an engine's
/// refusal) is collected, bounded, and sent whole, as before.
final class Exchange {
    /// What sending the request needs; kept until the replica's response head arrives (a retry elsewhere
    /// sends it again), then let go, so that a long stream does not hold its prompt.
    struct Request {
        var body: ByteBuffer
        var routing: RoutingRequest
        var exclusions: [ReplicaID]
        var directory: ReplicaDirectory
        /// For a stream: how the relay treats its final usage chunk; nil: not at all (pure passthrough).
        var usage: UsagePlan?
    }

    private enum State {
        /// Routing, or connecting to the chosen replica.
        case routing
        /// The request is sent; no response head yet.
        case awaitingHead
        /// Relaying a streamed 200.
        case streaming
        /// Collecting an answer to send whole; `overflowed`: past its bound (only the status is kept).
        case collecting(ByteBuffer, overflowed: Bool)
        /// Ended: slot and lease released, both connections closed or closing.
        case finished
    }

    let record: RequestRecord
    private let connector: UpstreamConnector
    private let eventLoop: any EventLoop
    private var client: CompletionIntake?
    private var request: Request?
    private let usage: UsagePlan?
    private let feedback: CacheFeedbackKey?
    private var state = State.routing
    private var retriesLeft: Int
    private var excluded: [ReplicaID]
    private var lastFailure: UpstreamFailure?
    private var lease: LeaseHandle?
    private var replica: ReplicaID?
    private var upstream: UpstreamHandler?
    private var filter: UsageFilter?
    private var firstByteSeen = false
    private var status = 200
    private var contentType: String?

    init(
        record: RequestRecord,
        connector: UpstreamConnector,
        client: CompletionIntake,
        eventLoop: any EventLoop,
        request: Request
    ) {
        self.record = record
        self.connector = connector
        self.client = client
        self.eventLoop = eventLoop
        self.request = request
        self.usage = request.usage
        // The routing key's hashes are kept only where the usage is read: every non-streamed answer, and
        // streams with a usage plan.
        self.feedback =
            record.stream && request.usage == nil
            ? nil : CacheFeedbackKey(request.routing, strategy: record.core.configuration.routing.strategy)
        self.retriesLeft = record.core.configuration.upstream.retries
        self.excluded = request.exclusions
        self.filter = request.usage.map(UsageFilter.init(plan:))
        record.core.countExchange(opened: true)
    }

    private var core: GatewayCore { record.core }

    /// Whether the client's channel takes more bytes now (the upstream reads are held while it does not).
    var clientWritable: Bool { client?.isWritable ?? true }

    // MARK: Routing and connecting

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

    private func connected(_ result: Result<any Channel, any Error>, to replica: ReplicaEndpoint, lease: LeaseHandle) {
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
    private func failedBeforeHead(_ failure: UpstreamFailure, _ description: String, replica: ReplicaID) {
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
    private func refuseForCapacity() {
        let skip = Set(excluded)
        let available = core.router.snapshot().replicas.contains { $0.isEligible && !skip.contains($0.id) }
        core.metrics.rejection(available ? "replica_cap" : "no_replica")
        answer(available ? .atCapacity : .noReplica, retryHeaders: true)
    }

    private static func amount(_ seconds: Double) -> TimeAmount { .milliseconds(Int64(seconds * 1_000)) }

    private func upstreamHead(to replica: ReplicaEndpoint) -> HTTPRequestHead {
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

    // MARK: Upstream events (from UpstreamHandler)

    /// The replica's response head.
    func upstreamHead(_ head: HTTPResponseHead) {
        guard case .awaitingHead = state, let replica else { return }
        request = nil  // sent and answered: no retry from here on
        status = Int(head.status.code)
        if status == 502 || status == 503 || status == 504 {
            core.health.requestFailed(replica)
            core.metrics.upstreamError(replica: replica, kind: "status_\(status)")
        } else {
            core.health.requestSucceeded(replica)
        }
        contentType = head.headers.first(name: "content-type")
        guard record.stream && status == 200 else {
            state = .collecting(ByteBuffer(), overflowed: false)
            return
        }
        state = .streaming
        client?.send(HTTPResponse(status: .ok, headerFields: responseHeaders(streaming: true)), flush: true)
    }

    /// A part of the replica's response body.
    func upstreamBody(_ chunk: ByteBuffer) {
        switch state {
        case .streaming:
            if !firstByteSeen {
                firstByteSeen = true
                lease?.reportFirstToken()
                core.metrics.timeToFirstByte(
                    ContinuousClock.now - record.start,
                    endpoint: record.endpoint.label,
                    model: record.model
                )
            }
            // Optional chaining mutates the filter in place (a copy would copy the bytes it holds on write).
            let output = filter == nil ? chunk : filter?.process(chunk)
            if let output { client?.send(output) }
        case .collecting(var collected, let overflowed):
            state = .finished  // (not for long) so that `collected` is not copied on write
            let limit = record.stream ? 1 << 20 : core.configuration.upstream.maxResponseBytes
            if overflowed || collected.readableBytes + chunk.readableBytes > limit {
                guard record.stream else {
                    state = .collecting(ByteBuffer(), overflowed: true)
                    let handler = upstream
                    upstreamFailed(.other, "the response exceeds \(limit) bytes")
                    handler?.close()
                    return
                }
                state = .collecting(ByteBuffer(), overflowed: true)
                return
            }
            collected.writeImmutableBuffer(chunk)
            state = .collecting(collected, overflowed: false)
        default:
            break
        }
    }

    /// The end of a burst of upstream reads: flush what was relayed.
    func upstreamReadComplete() {
        if case .streaming = state { client?.flush() }
    }

    /// The replica's response ended normally.
    func upstreamEnd() {
        switch state {
        case .streaming:
            if let rest = filter?.finish() { client?.send(rest) }
            accountStreamUsage()
            conclude(status: 200)
            endStream()
        case .collecting(let collected, _):
            let bytes = collected
            if !record.stream {
                lease?.reportFirstToken()
                if status == 200, let replica, let usage = bytes.withUnsafeReadableBytes(ReportedUsage.inResponse) {
                    record.account(usage, replica: replica, feedback: feedback)
                }
            }
            conclude(status: status, note: record.stream ? "upstream status" : "")
            respond(status: status, body: bytes)
        default:
            break
        }
        upstream = nil  // it closes its connection itself
    }

    /// The replica's connection failed, closed early, or timed out (the handler closes it).
    func upstreamFailed(_ failure: UpstreamFailure, _ description: String) {
        upstream = nil
        guard let replica else { return }
        switch state {
        case .awaitingHead:
            lease?.release()
            lease = nil
            self.replica = nil
            failedBeforeHead(failure, description, replica: replica)
        case .streaming:
            accountStreamUsage()
            core.metrics.upstreamError(replica: replica, kind: "stream_\(failure.rawValue)")
            if failure.countsAgainstReplica { core.health.requestFailed(replica) }
            record.logger.warning(
                "upstream failed mid-stream",
                metadata: [
                    "replica": "\(replica)", "failure": "\(failure.rawValue)", "error": "\(description)",
                ]
            )
            conclude(status: 200, note: "upstream failed mid-stream")
            // OpenAI's clients raise on an SSE event carrying "error"; then the stream closes cleanly.
            client?.send(APIError.streamInterrupted.serverSentEvent)
            endStream()
        case .collecting where record.stream:
            // The engine's refusal could not be read whole: relay its status with an empty body.
            conclude(status: status, note: "upstream status")
            respond(status: status, body: ByteBuffer())
        case .collecting:
            core.metrics.upstreamError(replica: replica, kind: failure.rawValue)
            if failure.countsAgainstReplica { core.health.requestFailed(replica) }
            let error: APIError = failure == .timeout ? .upstreamTimeout : .upstreamFailed
            conclude(status: Int(error.status.code), note: "\(failure.rawValue)")
            let parts = error.parts(headers: [.requestID: record.requestID, .connection: "close"])
            client?.respond(parts.head, body: parts.body)
            client = nil
        case .routing, .finished:
            break
        }
    }

    // MARK: Client events (from CompletionIntake)

    /// The client hung up (closed, reset, or half-closed its side): the upstream connection is closed, so
    /// that the engine stops generating.
    func clientGone() {
        let streaming: Bool
        switch state {
        case .finished: return
        case .streaming: streaming = true
        default: streaming = false
        }
        if streaming { accountStreamUsage() }
        client = nil
        conclude(
            status: 499,
            replica: streaming ? replica : nil,
            note: "client closed the connection"
        )
        closeUpstream()
    }

    /// The client's channel became writable or unwritable.
    func clientWritabilityChanged() {
        if clientWritable { upstream?.resumeReading() }
    }

    // MARK: Ends

    private func accountStreamUsage() {
        if let reported = filter?.usage, let replica {
            record.account(reported, replica: replica, feedback: feedback)
        }
        filter = nil
    }

    /// Records the end once: the lease, the admission slot, metrics and the access log line.
    private func conclude(status: Int, note: String = "") {
        conclude(status: status, replica: replica, note: note)
    }

    private func conclude(status: Int, replica: ReplicaID?, note: String) {
        if case .finished = state { return }
        state = .finished
        request = nil
        core.countExchange(opened: false)
        lease?.release()
        lease = nil
        record.finish(status: status, replica: replica, note: note)
    }

    private func endStream() {
        client?.end()
        client = nil
    }

    private func closeUpstream() {
        upstream?.close()
        upstream = nil
    }

    /// Answers an error before any upstream response: the access log line, the answer.
    private func answer(_ error: APIError, retryHeaders: Bool) {
        conclude(status: Int(error.status.code), replica: nil, note: error.code ?? "")
        var headers: HTTPFields = [.requestID: record.requestID, .connection: "close"]
        if retryHeaders { headers.append(contentsOf: core.retryAdvice.headers()) }
        let parts = error.parts(headers: headers)
        client?.respond(parts.head, body: parts.body)
        client = nil
    }

    /// Sends a collected upstream answer whole, with its status.
    private func respond(status: Int, body: ByteBuffer) {
        var headers = responseHeaders(streaming: false)
        headers[.contentLength] = "\(body.readableBytes)"
        client?.respond(HTTPResponse(status: .init(code: status), headerFields: headers), body: body)
        client = nil
    }

    /// The headers relayed from the upstream answer, plus the request id.
    ///
    /// `Connection: close`: the connection ends with the exchange (its client channel carried the request
    /// and the answer and nothing else), so clients do not send their next request on it.
    private func responseHeaders(streaming: Bool) -> HTTPFields {
        var headers: HTTPFields = [.requestID: record.requestID, .connection: "close"]
        headers[.contentType] = contentType ?? (streaming ? "text/event-stream" : "application/json")
        if streaming {
            headers[.cacheControl] = "no-cache"
            headers[.accelBuffering] = "no"
        }
        return headers
    }
}
