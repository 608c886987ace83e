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

    enum State {
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
    let connector: UpstreamConnector
    let eventLoop: any EventLoop
    var client: CompletionIntake?
    var request: Request?
    let usage: UsagePlan?
    let feedback: CacheFeedbackKey?
    var state = State.routing
    var retriesLeft: Int
    var excluded: [ReplicaID]
    var lastFailure: UpstreamFailure?
    var lease: LeaseHandle?
    var replica: ReplicaID?
    var upstream: UpstreamHandler?
    var filter: UsageFilter?
    var firstByteSeen = false
    /// A stream's first byte came within the placement's TTFT limit (``CacheFeedbackKey/placementDeadline``).
    var placementDue = false
    var status = 200
    var contentType: String?

    init(
        record: RequestRecord,
        connector: UpstreamConnector,
        client: CompletionIntake,
        channel: any Channel,
        request: Request
    ) {
        self.record = record
        self.connector = connector
        self.client = client
        self.eventLoop = channel.eventLoop
        self.request = request
        self.usage = request.usage
        // The routing key's hashes are kept only where the router learns from the end: the usage is read
        // (every non-streamed answer, and streams with a usage plan) for a strategy that learns from cached
        // tokens, or placement at release is on for one that learns from placements.
        self.feedback = CacheFeedbackKey(
            request.routing,
            configuration: record.core.configuration.routing,
            readsUsage: !record.stream || request.usage != nil,
            start: record.start
        )
        self.retriesLeft = record.core.configuration.upstream.retries
        self.excluded = request.exclusions
        self.filter = request.usage.map(UsageFilter.init(plan:))
        record.core.exchanges.insert(ObjectIdentifier(self), channel: channel)
    }

    var core: GatewayCore { record.core }

    /// Whether the client's channel takes more bytes now (the upstream reads are held while it does not).
    var clientWritable: Bool { client?.isWritable ?? true }

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

    func accountStreamUsage() {
        if let reported = filter?.usage, let replica {
            record.account(reported, replica: replica, feedback: feedback)
        }
        filter = nil
    }

    /// Records the end once: the lease, the admission slot, metrics and the access log line.
    func conclude(status: Int, note: String = "") {
        conclude(status: status, replica: replica, note: note)
    }

    func conclude(status: Int, replica: ReplicaID?, note: String) {
        if case .finished = state { return }
        state = .finished
        request = nil
        core.exchanges.remove(ObjectIdentifier(self))
        lease?.release()
        lease = nil
        record.finish(status: status, replica: replica, note: note)
    }

    func endStream() {
        client?.end()
        client = nil
    }

    func closeUpstream() {
        upstream?.close()
        upstream = nil
    }

    /// Answers an error before any upstream response: the access log line, the answer.
    func answer(_ error: APIError, retryHeaders: Bool) {
        conclude(status: Int(error.status.code), replica: nil, note: error.code ?? "")
        var headers: HTTPFields = [.requestID: record.requestID, .connection: "close"]
        if retryHeaders { headers.append(contentsOf: core.retryAdvice.headers()) }
        let parts = error.parts(headers: headers)
        client?.respond(parts.head, body: parts.body)
        client = nil
    }

    /// Sends a collected upstream answer whole, with its status.
    func respond(status: Int, body: ByteBuffer) {
        var headers = responseHeaders(streaming: false)
        headers[.contentLength] = "\(body.readableBytes)"
        client?.respond(HTTPResponse(status: .init(code: status), headerFields: headers), body: body)
        client = nil
    }

    /// The headers relayed from the upstream answer, plus the request id.
    ///
    /// `Connection: close`: the connection ends with the exchange (its client channel carried the request
    /// and the answer and nothing else), so clients do not send their next request on it.
    func responseHeaders(streaming: Bool) -> HTTPFields {
        var headers: HTTPFields = [.requestID: record.requestID, .connection: "close"]
        headers[.contentType] = contentType ?? (streaming ? "text/event-stream" : "application/json")
        if streaming {
            headers[.cacheControl] = "no-cache"
            headers[.accelBuffering] = "no"
        }
        return headers
    }
}
