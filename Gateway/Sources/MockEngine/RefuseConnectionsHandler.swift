import NIOCore

/// Closes connections while the `refuseConnections` fault is on: new ones as soon as they are accepted,
/// kept-alive ones when their next request arrives (before any answer).
final class RefuseConnectionsHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let isRefusing: @Sendable () -> Bool

    init(isRefusing: @escaping @Sendable () -> Bool) {
        self.isRefusing = isRefusing
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive && isRefusing() { context.close(promise: nil) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if isRefusing() {
            context.close(promise: nil)
        } else {
            context.fireChannelActive()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if isRefusing() {
            context.close(promise: nil)
        } else {
            context.fireChannelRead(data)
        }
    }
}
