import AsyncHTTPClient
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import PrefixRouter

/// `POST /v1/chat/completions` and `POST /v1/completions`: authenticate, admit, read and decode the body,
/// route by prefix, forward the body unchanged (but for the usage rule below), and relay the answer (streamed
/// or not) while holding the admission slot and the replica's lease for exactly as long as the upstream
/// response lasts.
///
/// The usage rule: a streamed request whose client did not set `stream_options.include_usage` is sent
/// upstream with it (`upstream.requestUsage`, default on; ``StreamUsageRequest``), so that the engine reports
/// its cached prompt tokens; the relay reads that final usage chunk and removes it (``UsageFilter``). A client
/// that asked for usage gets the chunk unchanged, and it is read too. Non-streamed answers are relayed as
/// they are; their `usage` is read as well.
struct CompletionProxy: Sendable {
    let core: GatewayCore
    let client: HTTPClient

    /// Handles one request. Never throws: every failure is an answer in OpenAI's error shape.
    func handle(_ request: Request, context: some RequestContext, endpoint: CompletionEndpoint) async -> Response {
        let start = ContinuousClock.now
        let requestID = RequestIdentity.id(from: request.headers)
        var logger = core.logger
        logger[metadataKey: "request_id"] = .string(requestID)
        let identity: HTTPFields = [.requestID: requestID]
        let metrics = core.metrics

        func reject(_ error: APIError, model: String = "none", headers: HTTPFields = [:]) -> Response {
            metrics.request(endpoint: endpoint.label, model: model, status: Int(error.status.code))
            var fields = identity
            fields.append(contentsOf: headers)
            logger.debug(
                "request refused",
                metadata: ["status": "\(error.status.code)", "code": "\(error.code ?? "")"]
            )
            return error.response(headers: fields)
        }

        let runtime = core.runtime
        guard runtime.admitsClient(request.headers) else { return reject(.unauthorized) }
        if core.isShuttingDown {
            metrics.rejection("shutting_down")
            return reject(.shuttingDown, headers: core.retryAdvice.headers())
        }
        // Admission before reading the body: an overloaded gateway spends nothing on a refused request.
        guard let ticket = AdmissionTicket(core.gate) else {
            metrics.rejection("global_cap")
            return reject(.atCapacity, headers: core.retryAdvice.headers())
        }

        let limit = core.configuration.admission.maxBodyBytes
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            return reject(.bodyTooLarge(limit: limit))
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            return reject(.bodyTooLarge(limit: limit))
        } catch {
            return reject(.invalidRequest("The request body could not be read.", param: nil))
        }

        // The watcher that cancels the upstream request on a hang-up needs the request's original body
        // stream, not the collected bytes: keep the former only, so a long stream does not hold its prompt.
        request.body = RequestBody(buffer: ByteBuffer())

        let parsed: CompletionRequest
        do {
            parsed = try CompletionRequest.decode(body.readableBytesView, endpoint: endpoint)
        } catch {
            let message = error.field.map { "\($0): \(error.message)" } ?? error.message
            return reject(.invalidRequest(message, param: error.field))
        }
        let sessionKey = parsed.promptCacheKey ?? runtime.sessionHeader.flatMap { request.headers[$0] } ?? parsed.user
        guard let exclusions = runtime.directory.exclusions[parsed.model],
            let routing = runtime.keys.routingRequest(for: parsed, sessionKey: sessionKey)
        else {
            return reject(.modelNotFound(parsed.model))
        }
        let model = parsed.model  // configured: safe as a label
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
            requestID: requestID,
            start: start,
            logger: logger,
            ticket: ticket
        )
        let exchange = Exchange(
            record: record,
            client: client,
            body: upstreamBody,
            routing: routing,
            exclusions: exclusions,
            directory: runtime.directory,
            usage: usagePlan
        )
        if parsed.stream {
            return await exchange.stream(inbound: request.body)
        }
        // Not streamed: the head arrives only after the whole generation, so watch for the client leaving
        // while waiting, and cancel the upstream request if it does.
        do {
            return try await request.body.consumeWithCancellationOnInboundClose { _ in
                await exchange.complete()
            }
        } catch {
            exchange.finish(status: 499, replica: nil, note: "client closed the connection")
            return Response(
                status: .init(code: 499, reasonPhrase: "Client Closed Request"),
                headers: [.connection: "close"]
            )
        }
    }
}

/// One admitted, routable request on its way upstream: what sending it needs (the body, the routing key),
/// none of which the streamed response keeps (it keeps only the ``RequestRecord``).
struct Exchange: Sendable {
    let record: RequestRecord
    let client: HTTPClient
    let body: ByteBuffer
    let routing: RoutingRequest
    let exclusions: [ReplicaID]
    let directory: ReplicaDirectory
    /// For a stream: how the relay treats its final usage chunk; nil: not at all (pure passthrough).
    var usage: UsagePlan? = nil

    var core: GatewayCore { record.core }
    var endpoint: CompletionEndpoint { record.endpoint }
    var model: String { record.model }
    var stream: Bool { record.stream }
    var requestID: String { record.requestID }
    var logger: Logger { record.logger }

    func finish(status: Int, replica: ReplicaID?, note: String = "") {
        record.finish(status: status, replica: replica, note: note)
    }

    /// An upstream answer with the lease that must live as long as it.
    struct Upstream: Sendable {
        var response: HTTPClientResponse
        var replica: ReplicaID
        var lease: LeaseHandle
    }

    /// Routes and sends the request, retrying another replica after a connection failure; returns the
    /// upstream response head, or the answer to send instead.
    func send() async -> Result<Upstream, Refusal> {
        var excluded = exclusions
        var retriesLeft = core.configuration.upstream.retries
        var lastFailure: UpstreamFailure?
        let headTimeout =
            stream
            ? core.configuration.upstream.streamHeadTimeoutSeconds : core.configuration.upstream.requestTimeoutSeconds
        while true {
            guard let decision = core.router.route(routing, excluding: excluded) else {
                if let lastFailure {  // every replica tried failed: report that, not a capacity problem
                    return .failure(
                        .answer(lastFailure == .timeout ? .upstreamTimeout : .upstreamFailed, retryHeaders: false)
                    )
                }
                return .failure(refusal(excluded: excluded))
            }
            core.metrics.decision(decision.reason)
            let lease = LeaseHandle(decision.lease)
            guard let replica = directory.endpoints[decision.replica] else {
                lease.release()  // removed by a reload since the directory was read
                excluded.append(decision.replica)
                continue
            }
            do {
                let response = try await UpstreamClient.executeInChild(
                    client,
                    upstreamRequest(to: replica),
                    timeout: .milliseconds(Int64(headTimeout * 1_000))
                )
                let code = Int(response.status.code)
                if code == 502 || code == 503 || code == 504 {
                    core.health.requestFailed(replica.id)
                    core.metrics.upstreamError(replica: replica.id, kind: "status_\(code)")
                } else {
                    core.health.requestSucceeded(replica.id)
                }
                return .success(Upstream(response: response, replica: replica.id, lease: lease))
            } catch {
                lease.release()
                guard let failure = UpstreamFailure.classify(error) else { return .failure(.clientGone) }
                core.metrics.upstreamError(replica: replica.id, kind: failure.rawValue)
                if failure.countsAgainstReplica { core.health.requestFailed(replica.id) }
                logger.warning(
                    "upstream request failed",
                    metadata: ["replica": "\(replica.id)", "failure": "\(failure.rawValue)", "error": "\(error)"]
                )
                lastFailure = failure
                if failure.isRetryable && retriesLeft > 0 {
                    retriesLeft -= 1
                    excluded.append(replica.id)
                    core.metrics.retry(endpoint: endpoint.label)
                    continue
                }
                return .failure(.answer(failure == .timeout ? .upstreamTimeout : .upstreamFailed, retryHeaders: false))
            }
        }
    }

    /// Why no upstream response came back.
    enum Refusal: Error {
        /// Answer the client with this error.
        case answer(APIError, retryHeaders: Bool)
        /// The client left; nothing to answer.
        case clientGone
    }

    /// The answer when the router found no replica: 429 when replicas serving the model are up but all at
    /// their cap, 503 when none is up (or all failed).
    private func refusal(excluded: [ReplicaID]) -> Refusal {
        let skip = Set(excluded)
        let available = core.router.snapshot().replicas.contains { $0.isEligible && !skip.contains($0.id) }
        core.metrics.rejection(available ? "replica_cap" : "no_replica")
        return .answer(available ? .atCapacity : .noReplica, retryHeaders: true)
    }

    private func upstreamRequest(to replica: ReplicaEndpoint) -> HTTPClientRequest {
        var upstream = HTTPClientRequest(url: replica.url(endpoint.rawValue))
        upstream.method = .POST
        upstream.headers.reserveCapacity(5)
        upstream.headers.add(name: "content-type", value: "application/json")
        upstream.headers.add(name: "accept", value: stream ? "text/event-stream" : "application/json")
        upstream.headers.add(name: "x-request-id", value: requestID)
        if let authorization = replica.authorization {
            upstream.headers.add(name: "authorization", value: authorization)
        }
        upstream.body = .stream(UpstreamRequestBody(body), length: .known(Int64(body.readableBytes)))
        return upstream
    }

    private func answer(_ refusal: Refusal) -> Response {
        switch refusal {
        case .clientGone:
            finish(status: 499, replica: nil, note: "client closed the connection")
            return Response(status: .init(code: 499, reasonPhrase: "Client Closed Request"))
        case .answer(let error, let retryHeaders):
            finish(status: Int(error.status.code), replica: nil, note: error.code ?? "")
            var headers: HTTPFields = [.requestID: requestID]
            if retryHeaders { headers.append(contentsOf: core.retryAdvice.headers()) }
            return error.response(headers: headers)
        }
    }

    /// The headers relayed from the upstream answer, plus the request id.
    ///
    /// `Connection: close`: the inbound-close watcher that cancels the upstream request on a client hang-up
    /// ends the inbound stream, so Hummingbird closes the connection after the response; saying so keeps
    /// clients from sending their next request on a connection about to close.
    private func responseHeaders(_ upstream: HTTPHeaders, streaming: Bool) -> HTTPFields {
        var headers: HTTPFields = [.requestID: requestID, .connection: "close"]
        headers[.contentType] =
            upstream.first(name: "content-type") ?? (streaming ? "text/event-stream" : "application/json")
        if streaming {
            headers[.cacheControl] = "no-cache"
            headers[.accelBuffering] = "no"
        }
        return headers
    }

    /// The non-streamed path: the whole answer is read (bounded) and returned with the upstream status.
    func complete() async -> Response {
        let upstream: Upstream
        switch await send() {
        case .failure(let refusal): return answer(refusal)
        case .success(let value): upstream = value
        }
        defer { upstream.lease.release() }
        do {
            let bytes = try await upstream.response.body.collect(upTo: core.configuration.upstream.maxResponseBytes)
            upstream.lease.reportFirstToken()
            let status = Int(upstream.response.status.code)
            if status == 200, let usage = bytes.withUnsafeReadableBytes(ReportedUsage.inResponse) {
                let feedback = CacheFeedbackKey(routing, strategy: core.configuration.routing.strategy)
                record.account(usage, replica: upstream.replica, feedback: feedback)
            }
            finish(status: status, replica: upstream.replica)
            return Response(
                status: .init(code: status),
                headers: responseHeaders(upstream.response.headers, streaming: false),
                body: ResponseBody(byteBuffer: bytes)
            )
        } catch {
            guard let failure = UpstreamFailure.classify(error) else {
                finish(status: 499, replica: upstream.replica, note: "client closed the connection")
                return Response(status: .init(code: 499, reasonPhrase: "Client Closed Request"))
            }
            core.metrics.upstreamError(replica: upstream.replica, kind: failure.rawValue)
            if failure.countsAgainstReplica { core.health.requestFailed(upstream.replica) }
            let error: APIError = failure == .timeout ? .upstreamTimeout : .upstreamFailed
            finish(status: Int(error.status.code), replica: upstream.replica, note: "\(failure.rawValue)")
            return error.response(headers: [.requestID: requestID])
        }
    }

    /// The streamed path: returns the head at once; the body writer relays the upstream body chunk by chunk,
    /// cancelling it when the client hangs up, and owns the lease and the admission slot until it ends.
    func stream(inbound: RequestBody) async -> Response {
        let upstream: Upstream
        switch await send() {
        case .failure(let refusal): return answer(refusal)
        case .success(let value): upstream = value
        }
        let status = Int(upstream.response.status.code)
        guard status == 200 else {
            // The engine refused (400 for a bad parameter, 503 overloaded…): relay its answer as it is.
            defer { upstream.lease.release() }
            let bytes = (try? await upstream.response.body.collect(upTo: 1 << 20)) ?? ByteBuffer()
            finish(status: status, replica: upstream.replica, note: "upstream status")
            return Response(
                status: .init(code: status),
                headers: responseHeaders(upstream.response.headers, streaming: false),
                body: ResponseBody(byteBuffer: bytes)
            )
        }
        let relay = StreamRelay(
            record: record,
            upstream: upstream,
            usage: usage,
            feedback: usage == nil ? nil : CacheFeedbackKey(routing, strategy: core.configuration.routing.strategy)
        )
        return Response(
            status: .ok,
            headers: responseHeaders(upstream.response.headers, streaming: true),
            body: ResponseBody { writer in try await relay.run(inbound: inbound, writer: &writer) }
        )
    }
}
