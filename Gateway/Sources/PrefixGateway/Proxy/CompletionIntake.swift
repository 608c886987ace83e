import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// The client side of the completion endpoints, in every client connection's pipeline between Hummingbird's
/// connection-state handler and Hummingbird itself: it takes `POST /v1/chat/completions` and
/// `POST /v1/completions` out of the connection's request stream and serves them in the channel (admission
/// and decoding through ``CompletionProxy``, the rest through an ``Exchange``), so that no task lives per
/// stream; every other request goes on to Hummingbird's router.
///
/// Hummingbird's side of the connection (`NIOAsyncChannel`, and the task that serves it) is created only when
/// a request for it arrives (``hummingbird``): a connection that carries one completion, as clients holding
/// streams open do, never has one. A completion's answer ends its connection (`connection: close`), so a
/// connection never serves Hummingbird after a completion; one that served Hummingbird first may still carry
/// a completion, which waits for Hummingbird's answers before it (HTTP/1.1 pipelining) to be written.
final class CompletionIntake: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Hummingbird's view of the connection: completed once, with the channel when a request for Hummingbird
    /// arrives, or nil when the connection serves a completion or closes first.
    typealias HummingbirdChannel = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    private enum Mode {
        /// Between requests.
        case idle
        /// The request being read is Hummingbird's.
        case hummingbird
        /// Reading an admitted completion's body.
        case reading(CompletionProxy.Admitted, ByteBuffer)
        /// The completion is with its exchange.
        case exchanging(Exchange)
        /// Answered or answering; the connection closes once the request has been read to its end.
        case ending(requestEnded: Bool, answered: Bool)
    }

    private let proxy: CompletionProxy
    private var hummingbird: EventLoopPromise<HummingbirdChannel?>?
    /// Whether Hummingbird serves this connection (it has had a request for it).
    private var servesHummingbird = false
    private var mode = Mode.idle
    private var context: ChannelHandlerContext?
    /// Hummingbird's requests whose answer has not ended yet.
    private var hummingbirdBusy = 0
    /// A completion that arrived while Hummingbird was still answering (pipelining): replayed after.
    private var held: [HTTPRequestPart] = []

    init(proxy: CompletionProxy, hummingbird: EventLoopPromise<HummingbirdChannel?>) {
        self.proxy = proxy
        self.hummingbird = hummingbird
    }

    /// The completion endpoint a request head is for, or nil when it is Hummingbird's.
    static func endpoint(of head: HTTPRequest) -> CompletionEndpoint? {
        guard head.method == .post, let path = head.path else { return nil }
        let route = path.prefix { $0 != "?" }
        return CompletionEndpoint.allCases.first { $0.rawValue == route }
    }

    // MARK: Pipeline events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        context.channel.closeFuture.assumeIsolated().whenComplete { [self] _ in closed() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        decideHummingbird(nil)
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if !held.isEmpty {
            held.append(part)
            return
        }
        if case .idle = mode, hummingbirdBusy > 0, case .head(let head) = part, Self.endpoint(of: head) != nil {
            held.append(part)
            return
        }
        receive(part, context: context)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Only Hummingbird's answers pass here (the intake writes from its own position).
        context.write(data, promise: promise)
        guard case .end = unwrapOutboundIn(data) else { return }
        hummingbirdBusy -= 1
        if hummingbirdBusy == 0 && !held.isEmpty {
            let parts = held
            held = []
            for part in parts { receive(part, context: context) }
        }
    }

    /// The connection closed (seen through the close future: Hummingbird's connection-state handler, before
    /// this one, does not pass `channelInactive` on).
    private func closed() {
        switch mode {
        case .exchanging(let exchange): exchange.clientGone()
        case .reading(let admitted, _): _ = proxy.bodyUnreadable(admitted)  // counted as before: a 400
        default: break
        }
        mode = .ending(requestEnded: true, answered: true)
        decideHummingbird(nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let event = event as? ChannelEvent, event == .inputClosed else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        switch mode {
        case .exchanging, .reading, .ending:
            // The client hung up (half-closed its side: it sends nothing more, and a stream's client never
            // does that before reading its answer).
            context.close(promise: nil)
        case .idle, .hummingbird:
            if servesHummingbird {
                context.fireUserInboundEventTriggered(event)
            } else {
                context.close(promise: nil)
            }
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if case .exchanging(let exchange) = mode { exchange.clientWritabilityChanged() }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch mode {
        case .idle where servesHummingbird, .hummingbird:
            context.fireErrorCaught(error)  // Hummingbird answers malformed requests 400
        case .idle:
            // A malformed first request: answered as Hummingbird does.
            mode = .ending(requestEnded: true, answered: true)
            decideHummingbird(nil)
            let head = HTTPResponse(status: .badRequest, headerFields: [.connection: "close", .contentLength: "0"])
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        case .reading(let admitted, _):
            mode = .ending(requestEnded: true, answered: false)
            answer(proxy.bodyUnreadable(admitted))
        case .exchanging, .ending:
            context.close(promise: nil)
        }
    }

    // MARK: Requests

    private func receive(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        switch (mode, part) {
        case (.idle, .head(let head)):
            guard let endpoint = Self.endpoint(of: head) else {
                guard startHummingbird(context) else { return }
                hummingbirdBusy += 1
                mode = .hummingbird
                context.fireChannelRead(wrapInboundOut(part))
                return
            }
            decideHummingbird(nil)
            switch proxy.admit(head, endpoint: endpoint) {
            case .success(let admitted):
                mode = .reading(admitted, ByteBuffer())
            case .failure(let refusal):
                mode = .ending(requestEnded: false, answered: false)
                answer(refusal)
            }
        case (.hummingbird, _):
            if case .end = part { mode = .idle }
            context.fireChannelRead(wrapInboundOut(part))
        case (.reading(let admitted, var body), .body(let chunk)):
            mode = .idle  // so that `body` is not copied on write
            guard body.readableBytes + chunk.readableBytes <= proxy.maxBodyBytes else {
                mode = .ending(requestEnded: false, answered: false)
                answer(proxy.bodyTooLarge(admitted))
                return
            }
            body.writeImmutableBuffer(chunk)
            mode = .reading(admitted, body)
        case (.reading(let admitted, let body), .end):
            mode = .idle
            switch proxy.prepare(admitted, body: body, client: self, channel: context.channel) {
            case .success(let exchange):
                mode = .exchanging(exchange)
                exchange.start()
            case .failure(let refusal):
                mode = .ending(requestEnded: true, answered: false)
                answer(refusal)
            }
        case (.ending(_, let answered), .end):
            mode = .ending(requestEnded: true, answered: answered)
            if answered { context.close(promise: nil) }
        case (.idle, _), (.reading, .head), (.exchanging, _), (.ending, _):
            break  // after a completion's request, anything more on its connection is ignored
        }
    }

    /// Creates Hummingbird's side of the connection, the first time it is needed.
    private func startHummingbird(_ context: ChannelHandlerContext) -> Bool {
        if servesHummingbird { return true }
        guard let promise = hummingbird else { return false }
        hummingbird = nil
        servesHummingbird = true
        do {
            let channel = try HummingbirdChannel(
                wrappingChannelSynchronously: context.channel,
                configuration: .init(isOutboundHalfClosureEnabled: true)
            )
            promise.succeed(channel)
            return true
        } catch {
            promise.succeed(nil)
            context.close(promise: nil)
            return false
        }
    }

    /// Tells the connection's task that Hummingbird will not serve this connection, if not decided yet.
    private func decideHummingbird(_ channel: HummingbirdChannel?) {
        hummingbird?.succeed(channel)
        hummingbird = nil
    }

    private func answer(_ refusal: CompletionProxy.Refusal) {
        var headers = refusal.headers
        headers[.connection] = "close"
        let parts = refusal.error.parts(headers: headers)
        respond(parts.head, body: parts.body)
    }

    // MARK: Writing (from the exchange)

    /// Whether the client's socket takes more bytes now.
    var isWritable: Bool { context?.channel.isWritable ?? false }

    /// Writes a response head.
    func send(_ head: HTTPResponse, flush: Bool) {
        guard let context else { return }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if flush { context.flush() }
    }

    /// Writes body bytes (flushed by ``flush()``).
    func send(_ bytes: ByteBuffer) {
        context?.write(wrapOutboundOut(.body(bytes)), promise: nil)
    }

    /// Flushes what was written.
    func flush() {
        context?.flush()
    }

    /// Ends the response and, once it is written, the connection.
    func end() {
        guard let context else { return }
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        mode = .ending(requestEnded: true, answered: true)
        written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    /// Writes a whole answer; the connection closes once it is written and the request was read to its end.
    func respond(_ head: HTTPResponse, body: ByteBuffer) {
        guard let context else { return }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        let requestEnded: Bool
        switch mode {
        case .ending(let ended, _): requestEnded = ended
        case .reading: requestEnded = false
        default: requestEnded = true
        }
        mode = .ending(requestEnded: requestEnded, answered: true)
        guard requestEnded else { return }
        written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}
