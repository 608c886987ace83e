import HTTPTypes
import Logging
import NIOCore
import PrefixRouter

/// `POST /v1/chat/completions` and `POST /v1/completions` up to the replica: authenticate, admit, read and
/// decode the body, build the routing key; then an ``Exchange`` routes, forwards the body unchanged (but for
/// the usage rule below) and relays the answer (streamed or not) while holding the admission slot and the
/// replica's lease for exactly as long as the upstream response lasts.
///
/// The usage rule: a streamed request whose client did not set `stream_options.include_usage` is sent
/// upstream with it (`upstream.requestUsage`, default on; ``StreamUsageRequest``), so that the engine reports
/// its cached prompt tokens; the relay reads that final usage chunk and removes it (``UsageFilter``). A client
/// that asked for usage gets the chunk unchanged, and it is read too. Non-streamed answers are relayed as
/// they are; their `usage` is read as well.
///
/// These two steps are synchronous: ``CompletionIntake`` calls them from the client channel's handler, at
/// the request's head and at its end.
struct CompletionProxy: Sendable {
    let core: GatewayCore
    let connector: UpstreamConnector

    /// A request whose head was accepted: it holds an admission slot while its body is read.
    struct Admitted: Sendable {
        let endpoint: CompletionEndpoint
        let headers: HTTPFields
        let requestID: String
        let start: ContinuousClock.Instant
        let logger: Logger
        let ticket: AdmissionTicket
    }

    /// The answer to a request refused before it reached a replica.
    struct Refusal: Error {
        let error: APIError
        let headers: HTTPFields
    }

    /// The most bytes of a request body read.
    var maxBodyBytes: Int { core.configuration.admission.maxBodyBytes }

    /// Checks a request's head: key, shutdown, admission (before reading the body: an overloaded gateway
    /// spends nothing on a refused request), declared length.
    func admit(_ head: HTTPRequest, endpoint: CompletionEndpoint) -> Result<Admitted, Refusal> {
        let start = ContinuousClock.now
        let requestID = RequestIdentity.id(from: head.headerFields)
        var logger = core.logger
        logger[metadataKey: "request_id"] = .string(requestID)
        let runtime = core.runtime
        guard runtime.admitsClient(head.headerFields) else {
            return .failure(refuse(.unauthorized, endpoint: endpoint, requestID: requestID, logger: logger))
        }
        if core.isShuttingDown {
            core.metrics.rejection("shutting_down")
            return .failure(
                refuse(.shuttingDown, endpoint: endpoint, requestID: requestID, logger: logger, retry: true)
            )
        }
        guard let ticket = AdmissionTicket(core.gate) else {
            core.metrics.rejection("global_cap")
            return .failure(refuse(.atCapacity, endpoint: endpoint, requestID: requestID, logger: logger, retry: true))
        }
        if let declared = head.headerFields[.contentLength].flatMap(Int.init), declared > maxBodyBytes {
            return .failure(
                refuse(.bodyTooLarge(limit: maxBodyBytes), endpoint: endpoint, requestID: requestID, logger: logger)
            )
        }
        return .success(
            Admitted(
                endpoint: endpoint,
                headers: head.headerFields,
                requestID: requestID,
                start: start,
                logger: logger,
                ticket: ticket
            )
        )
    }

    /// The answer to a body over ``maxBodyBytes``.
    func bodyTooLarge(_ admitted: Admitted) -> Refusal {
        refuse(
            .bodyTooLarge(limit: maxBodyBytes),
            endpoint: admitted.endpoint,
            requestID: admitted.requestID,
            logger: admitted.logger
        )
    }

    /// The answer to a body that could not be read (malformed, or the client left while sending it).
    func bodyUnreadable(_ admitted: Admitted) -> Refusal {
        refuse(
            .invalidRequest("The request body could not be read.", param: nil),
            endpoint: admitted.endpoint,
            requestID: admitted.requestID,
            logger: admitted.logger
        )
    }

    /// Decodes the whole body and builds the routing key: the exchange to start, or the answer.
    func prepare(
        _ admitted: Admitted,
        body: ByteBuffer,
        client: CompletionIntake,
        channel: any Channel
    ) -> Result<Exchange, Refusal> {
        let endpoint = admitted.endpoint
        let parsed: CompletionRequest
        do {
            parsed = try CompletionRequest.decode(body.readableBytesView, endpoint: endpoint)
        } catch {
            let message = error.field.map { "\($0): \(error.message)" } ?? error.message
            return .failure(
                refuse(
                    .invalidRequest(message, param: error.field),
                    endpoint: endpoint,
                    requestID: admitted.requestID,
                    logger: admitted.logger
                )
            )
        }
        let runtime = core.runtime
        let sessionKey =
            parsed.promptCacheKey ?? runtime.sessionHeader.flatMap { admitted.headers[$0] } ?? parsed.user
        guard let exclusions = runtime.directory.exclusions[parsed.model],
            let routing = runtime.keys.routingRequest(for: parsed, sessionKey: sessionKey)
        else {
            return .failure(
                refuse(
                    .modelNotFound(parsed.model),
                    endpoint: endpoint,
                    requestID: admitted.requestID,
                    logger: admitted.logger
                )
            )
        }
        let model = parsed.model  // configured: safe as a label
        var logger = admitted.logger
        logger[metadataKey: "model"] = .string(model)

        var upstreamBody = body
        var usagePlan: UsagePlan?
        if parsed.stream {
            if parsed.includeUsage {
                usagePlan = UsagePlan(strip: false)
            } else if core.configuration.upstream.requestUsage,
                let edited = StreamUsageRequest.addingIncludeUsage(to: body)
            {
                upstreamBody = edited
                usagePlan = UsagePlan(strip: true)
            }
        }
        let record = RequestRecord(
            core: core,
            endpoint: endpoint,
            model: model,
            stream: parsed.stream,
            requestID: admitted.requestID,
            start: admitted.start,
            logger: logger,
            ticket: admitted.ticket
        )
        let exchange = Exchange(
            record: record,
            connector: connector,
            client: client,
            channel: channel,
            request: Exchange.Request(
                body: upstreamBody,
                routing: routing,
                exclusions: exclusions,
                directory: runtime.directory,
                usage: usagePlan
            )
        )
        return .success(exchange)
    }

    private func refuse(
        _ error: APIError,
        endpoint: CompletionEndpoint,
        requestID: String,
        logger: Logger,
        retry: Bool = false
    ) -> Refusal {
        core.metrics.request(endpoint: endpoint.label, model: "none", status: Int(error.status.code))
        logger.debug("request refused", metadata: ["status": "\(error.status.code)", "code": "\(error.code ?? "")"])
        var headers: HTTPFields = [.requestID: requestID]
        if retry { headers.append(contentsOf: core.retryAdvice.headers()) }
        return Refusal(error: error, headers: headers)
    }
}
