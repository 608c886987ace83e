import Logging
import PrefixRouter

/// What a request keeps for its whole life, streamed body included: enough to account for its end (metrics,
/// the access log line, the admission slot), and nothing of its body or routing key, so that a long stream
/// does not hold its prompt in memory.
struct RequestRecord: Sendable {
    let core: GatewayCore
    let endpoint: CompletionEndpoint
    let model: String
    let stream: Bool
    let requestID: String
    let start: ContinuousClock.Instant
    let logger: Logger
    let ticket: AdmissionTicket

    /// Records the request's end: metrics, the access log line, and the admission slot.
    func finish(status: Int, replica: ReplicaID?, note: String = "") {
        guard ticket.release() else { return }  // already finished
        let elapsed = ContinuousClock.now - start
        core.metrics.request(endpoint: endpoint.label, model: model, status: status)
        core.metrics.requestDuration(elapsed, endpoint: endpoint.label, model: model)
        var metadata: Logger.Metadata = [
            "status": "\(status)", "endpoint": "\(endpoint.label)", "stream": "\(stream)",
            "duration_ms": "\(elapsed.nanoseconds / 1_000_000)",
        ]
        if let replica { metadata["replica"] = "\(replica)" }
        if !note.isEmpty { metadata["note"] = "\(note)" }
        logger.info("request finished", metadata: metadata)
    }
}
