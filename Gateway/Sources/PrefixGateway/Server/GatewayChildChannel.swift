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
/// the connection with `http` as `HTTP1Channel` does.
struct GatewayChildChannel: Sendable {
    let http: HTTP1Channel
    let proxy: CompletionProxy

    /// Builds the connection's pipeline; call on the channel's event loop.
    ///
    /// - Returns: Hummingbird's side of the connection once the intake has seen the first request: nil when
    ///   the intake serves it (a completion) or the connection ended first.
    func setUp(_ channel: any Channel, logger: Logger) throws -> EventLoopFuture<CompletionIntake.HummingbirdChannel?> {
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
        return hummingbird.futureResult
    }
}
