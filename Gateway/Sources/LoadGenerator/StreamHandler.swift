import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One stream: sends the request when the connection is up, times the first body byte, keeps the body's
/// last bytes, and reports how the stream ended exactly once.
final class StreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    /// The SSE stream's end marker.
    static let done = Array("data: [DONE]\n\n".utf8)

    private let request: StreamRequest
    private let started: NIODeadline
    private let results: Results
    private var status: Int?
    private var firstByte = false
    private var bytes = 0
    private var tail: [UInt8] = []
    private var ended = false

    init(request: StreamRequest, started: NIODeadline, results: Results) {
        self.request = request
        self.started = started
        self.results = results
    }

    func channelActive(context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(request.body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
        case .body(let buffer):
            if !firstByte && status == 200 {
                firstByte = true
                results.firstByte(nanoseconds: NIODeadline.now().uptimeNanoseconds - started.uptimeNanoseconds)
            }
            bytes += buffer.readableBytes
            let keep = Self.done.count
            if buffer.readableBytes >= keep {
                tail = buffer.getBytes(at: buffer.writerIndex - keep, length: keep) ?? []
            } else {
                tail.append(contentsOf: buffer.readableBytesView)
                if tail.count > keep { tail.removeFirst(tail.count - keep) }
            }
        case .end:
            if status != 200 {
                finish("status_\(status ?? 0)")
            } else if tail == Self.done {
                finish(nil)
            } else {
                finish("body_without_done")
            }
            context.close(promise: nil)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? IdleStateHandler.IdleStateEvent, event == .read {
            finish("idle_timeout")
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(status == nil ? "closed_before_head" : "closed_mid_stream")
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(ErrorKind.describe(error))
        context.close(promise: nil)
    }

    /// Reports the stream's end once: nil is success.
    private func finish(_ error: String?) {
        guard !ended else { return }
        ended = true
        results.finish(error, bytes: bytes, hadFirstByte: firstByte)
    }
}

/// Short names of failures, for counting by kind.
enum ErrorKind {
    static func connect(_ error: any Error) -> String { "connect_" + describe(error) }

    static func describe(_ error: any Error) -> String {
        if let error = error as? IOError {
            return "errno_\(error.errnoCode)"
        }
        if let error = error as? NIOConnectionError, let first = error.connectionErrors.first {
            return describe(first.error)
        }
        if error is HTTPParserError { return "http_parse" }
        if let error = error as? ChannelError {
            switch error {
            case .connectTimeout: return "connect_timeout"
            case .eof: return "eof"
            case .ioOnClosedChannel, .alreadyClosed: return "closed"
            default: return "channel"
            }
        }
        return String(describing: type(of: error))
    }
}
