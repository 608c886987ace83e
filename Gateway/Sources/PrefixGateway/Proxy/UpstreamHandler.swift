import NIOCore
import NIOHTTP1

/// The replica side of an ``Exchange``, last in the replica channel's pipeline (after the HTTP/1.1 client
/// codec): writes the request once added, passes the response on, holds its reads while the client's channel
/// is not writable (so a slow client slows the replica's socket instead of growing a buffer), and enforces
/// the response-head and read timeouts.
///
/// It reports each way the response ends to the exchange once (end, failure, timeout), then closes its
/// connection; ``close()`` (the client left) closes it without a report.
final class UpstreamHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    private var exchange: Exchange?
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private let headTimeout: TimeAmount
    private let readTimeout: TimeAmount
    private var context: ChannelHandlerContext?
    private var heldRead = false
    private var lastRead = NIODeadline.now()
    private var headTimer: Scheduled<Void>?
    private var readTimer: Scheduled<Void>?

    init(exchange: Exchange, head: HTTPRequestHead, body: ByteBuffer, headTimeout: TimeAmount, readTimeout: TimeAmount)
    {
        self.exchange = exchange
        self.head = head
        self.body = body
        self.headTimeout = headTimeout
        self.readTimeout = readTimeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        guard let head, let body else { return }
        self.head = nil
        self.body = nil
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if body.readableBytes > 0 { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        lastRead = .now()
        let loop = context.eventLoop.assumeIsolated()
        headTimer = loop.scheduleTask(in: headTimeout) { [self] in
            report(.timeout, "no response head within \(headTimeout)")
        }
        scheduleReadCheck(in: readTimeout)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimers()
        self.context = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastRead = .now()
        switch unwrapInboundIn(data) {
        case .head(let head):
            headTimer?.cancel()
            headTimer = nil
            exchange?.upstreamHead(head)
        case .body(let bytes):
            exchange?.upstreamBody(bytes)
        case .end:
            let exchange = self.exchange
            self.exchange = nil
            cancelTimers()
            exchange?.upstreamEnd()
            context.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        exchange?.upstreamReadComplete()
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        report(UpstreamFailure.classify(error) ?? .other, "\(error)")
    }

    func channelInactive(context: ChannelHandlerContext) {
        report(.closed, "the connection closed before the response ended")
        context.fireChannelInactive()
    }

    func read(context: ChannelHandlerContext) {
        if exchange?.clientWritable ?? true {
            context.read()
        } else {
            heldRead = true
        }
    }

    /// Reads again if a read was held while the client was not writable.
    func resumeReading() {
        guard heldRead, let context else { return }
        heldRead = false
        lastRead = .now()
        context.read()
    }

    /// Closes the connection without reporting to the exchange (whose client left).
    func close() {
        exchange = nil
        cancelTimers()
        context?.close(promise: nil)
    }

    private func report(_ failure: UpstreamFailure, _ description: String) {
        guard let exchange else { return }
        self.exchange = nil
        cancelTimers()
        exchange.upstreamFailed(failure, description)
        context?.close(promise: nil)
    }

    /// The read timeout counts time without a byte from the replica, not time spent holding reads for a
    /// slow client.
    private func scheduleReadCheck(in delay: TimeAmount) {
        guard let context else { return }
        readTimer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
            readTimer = nil
            guard exchange != nil else { return }
            if heldRead { lastRead = .now() }
            let idle = NIODeadline.now() - lastRead
            if idle >= readTimeout {
                report(.timeout, "no bytes within the read timeout of \(readTimeout)")
            } else {
                scheduleReadCheck(in: readTimeout - idle)
            }
        }
    }

    private func cancelTimers() {
        headTimer?.cancel()
        headTimer = nil
        readTimer?.cancel()
        readTimer = nil
    }
}
