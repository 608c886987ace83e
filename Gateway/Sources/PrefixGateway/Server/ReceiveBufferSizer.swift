import NIOCore

/// Starts each client connection with 512-byte receive buffers instead of NIO's 2 KiB (they grow on demand
/// up to 16 KiB): requests arrive once, streams are many, and every idle connection keeps its buffer.
final class ReceiveBufferSizer: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = Never

    func handlerAdded(context: ChannelHandlerContext) {
        context.channel.setOption(
            ChannelOptions.recvAllocator,
            value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 16_384)
        ).whenComplete { _ in }
        context.pipeline.syncOperations.removeHandler(self, promise: nil)
    }
}
