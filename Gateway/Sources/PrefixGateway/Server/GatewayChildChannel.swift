import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// The gateway's client connections: Hummingbird's HTTP/1.1 pipeline (`HTTP1Channel`'s, handler for
/// handler), with a ``CompletionIntake`` between its connection-state handler (idle timeout, graceful
/// shutdown) and Hummingbird, which serves the completion endpoints in the channel and hands every other
/// request to Hummingbird's router.
///
/// ``GatewayServer`` sets a connection up synchronously when it accepts it; no Swift task is created unless
/// the connection's first request is for an endpoint other than the completions, and then one, which serves
/// the connection as `HTTP1Channel` does (``handle(value:logger:)``).
struct GatewayChildChannel: ServerChildChannel {
    /// A connection: its channel, and Hummingbird's side of it once known.
    struct Value: ServerChildChannelValue {
        let channel: any Channel
        let hummingbird: EventLoopFuture<CompletionIntake.HummingbirdChannel?>
    }

    let http: HTTP1Channel
    let proxy: CompletionProxy

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            try pipeline.configureHTTPServerPipeline(
                withPipeliningAssistance: false,
                withErrorHandling: false,
                withOutboundHeaderValidation: false,
                withEncoderConfiguration: .init(),
                withDecoderLimitConfiguration: .init()
            )
            try pipeline.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try pipeline.addHandlers(http.configuration.additionalChannelHandlers())
            let idleTimeout = http.configuration.idleTimeout.map { Duration.nanoseconds($0.nanoseconds) }
            try pipeline.addHandler(HTTPConnectionStateHandler(idleTimeout: idleTimeout, logger: logger))
            let hummingbird = channel.eventLoop.makePromise(of: CompletionIntake.HummingbirdChannel?.self)
            try pipeline.addHandler(CompletionIntake(proxy: proxy, hummingbird: hummingbird))
            return Value(channel: channel, hummingbird: hummingbird.futureResult)
        }
    }

    /// Serves a connection whose first request is not a completion with Hummingbird (the conformance's
    /// entry point; ``GatewayServer`` calls `http.handle` directly once the intake has decided).
    func handle(value: Value, logger: Logger) async {
        guard let channel = try? await value.hummingbird.get() else { return }
        await http.handle(value: channel, logger: logger)
    }
}
