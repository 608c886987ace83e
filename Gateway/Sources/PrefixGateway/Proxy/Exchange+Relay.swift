import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import PrefixRouter

/// The replica's side of the relay, as ``UpstreamHandler`` reports it: the response head, body parts, the
/// end, a failure.
extension Exchange {
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
                let now = ContinuousClock.now
                placementDue = feedback?.placementDue(firstTokenAt: now) ?? false
                core.metrics.timeToFirstByte(
                    now - record.start,
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
            if placementDue, let feedback, let replica { record.reportPlacement(replica: replica, feedback: feedback) }
            conclude(status: 200)
            endStream()
        case .collecting(let collected, _):
            let bytes = collected
            if !record.stream {
                lease?.reportFirstToken()
                if status == 200, let replica, let usage = bytes.withUnsafeReadableBytes(ReportedUsage.inResponse) {
                    record.account(usage, replica: replica, feedback: feedback)
                }
                // Non-streamed: the whole answer stands for the first token (an upper bound of the TTFT).
                if status == 200, let replica, let feedback, feedback.placementDue(firstTokenAt: .now) {
                    record.reportPlacement(replica: replica, feedback: feedback)
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
}
