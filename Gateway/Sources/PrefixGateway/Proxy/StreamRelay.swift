import AsyncHTTPClient
import Hummingbird
import Logging
import NIOCore
import PrefixRouter

/// Relays a streamed upstream body to the client, chunk by chunk, with backpressure both ways: the upstream
/// body is read only when the previous chunk was written, so a slow client slows the upstream read instead
/// of growing a buffer.
///
/// It owns the request's lease and admission slot for the stream's whole life and releases them on every
/// way out: the normal end, the client hanging up (which also cancels the upstream request), an upstream
/// failure, a timeout; and if the body is never written at all, the handle's and the ticket's `deinit`.
///
/// With a ``UsagePlan`` it also finds the stream's final usage chunk (``UsageFilter``), removes it when the
/// client did not ask for it, and accounts for the usage (metrics, and the cached tokens fed back to the
/// router with the ``CacheFeedbackKey``, the only part of the routing key a stream keeps).
struct StreamRelay: Sendable {
    let record: RequestRecord
    let upstream: Exchange.Upstream
    /// Nil: the body passes through untouched.
    var usage: UsagePlan? = nil
    var feedback: CacheFeedbackKey? = nil

    /// How the relay ended.
    private enum Outcome: Sendable {
        case completed
        case clientGone
        case upstreamFailed(UpstreamFailure, String)
    }

    func run(inbound: RequestBody, writer: inout any ResponseBodyWriter) async throws {
        let lease = upstream.lease
        defer { lease.release() }
        let outcome: Outcome
        var reported: ReportedUsage?
        do {
            (outcome, reported) = try await inbound.consumeWithCancellationOnInboundClose { _ in
                await relay(into: &writer)
            }
        } catch {
            outcome = .clientGone  // the inbound side closed: the operation was cancelled
        }
        if let reported { record.account(reported, replica: upstream.replica, feedback: feedback) }
        switch outcome {
        case .completed:
            lease.release()
            record.finish(status: 200, replica: upstream.replica)
            try await writer.finish(nil)
        case .clientGone:
            lease.release()
            record.finish(status: 499, replica: upstream.replica, note: "client closed the connection")
            throw CancellationError()
        case .upstreamFailed(let failure, let description):
            lease.release()
            record.core.metrics.upstreamError(replica: upstream.replica, kind: "stream_\(failure.rawValue)")
            if failure.countsAgainstReplica { record.core.health.requestFailed(upstream.replica) }
            record.logger.warning(
                "upstream failed mid-stream",
                metadata: [
                    "replica": "\(upstream.replica)", "failure": "\(failure.rawValue)", "error": "\(description)",
                ]
            )
            record.finish(status: 200, replica: upstream.replica, note: "upstream failed mid-stream")
            // OpenAI's clients raise on an SSE event carrying "error"; then the stream closes cleanly.
            try await writer.write(APIError.streamInterrupted.serverSentEvent)
            try await writer.finish(nil)
        }
    }

    private func relay(into writer: inout any ResponseBodyWriter) async -> (Outcome, ReportedUsage?) {
        var first = true
        var filter = usage.map(UsageFilter.init(plan:))
        var iterator = upstream.response.body.makeAsyncIterator()
        while true {
            let chunk: ByteBuffer?
            do {
                chunk = try await iterator.next()
            } catch {
                guard let failure = UpstreamFailure.classify(error) else { return (.clientGone, filter?.usage) }
                return (.upstreamFailed(failure, "\(error)"), filter?.usage)
            }
            if chunk == nil, let rest = filter?.finish() {
                do {
                    try await writer.write(rest)
                } catch {
                    return (.clientGone, filter?.usage)
                }
            }
            guard let received = chunk else { return (.completed, filter?.usage) }
            if first {
                first = false
                upstream.lease.reportFirstToken()
                record.core.metrics.timeToFirstByte(
                    ContinuousClock.now - record.start,
                    endpoint: record.endpoint.label,
                    model: record.model
                )
            }
            // Optional chaining mutates the filter in place (a copy would copy the bytes it holds on write).
            let output = filter == nil ? received : filter?.process(received)
            guard let output else { continue }
            do {
                try await writer.write(output)
            } catch {
                return (.clientGone, filter?.usage)
            }
        }
    }
}
