import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOExtras
import NIOPosix
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The gateway's listeners: one listening socket per event loop, bound to the same address with
/// `SO_REUSEPORT` (as nginx's `reuseport`), each accepting onto its own loop.
///
/// The kernel spreads new connections over the sockets; a connection is accepted, set up (a synchronous
/// child initializer: ``GatewayChildChannel``) and registered on the loop that accepted it, with no hand-off
/// between threads and no Swift task. Hummingbird's own server accepts through one socket on one loop and an
/// `NIOAsyncChannel`, which hops between the accepting loop and the connection's loop five times before the
/// connection's first read. Completions are then served in the connection's channel; a connection whose
/// first request is for another endpoint is handed to Hummingbird's `HTTP1Channel`, in a task of this
/// service's task group.
///
/// Graceful shutdown closes every listener, tells every open connection to quiesce (idle ones close, busy
/// ones after their response: NIO's `ServerQuiescingHelper`, as Hummingbird's server does) and returns once
/// the connections handed to Hummingbird have ended. Spliced streams are the concern of ``ExchangeDrain``.
struct GatewayServer: Service {
    let host: String
    let port: Int
    let backlog: Int
    let childChannel: GatewayChildChannel
    let group: MultiThreadedEventLoopGroup
    let logger: Logger
    let onListening: @Sendable (Int) async -> Void

    /// A bound listener and its quiescing helper.
    private struct Listener {
        let channel: any Channel
        let quiescing: ServerQuiescingHelper
    }

    func run() async throws {
        let (connections, continuation) = AsyncStream<CompletionIntake.HummingbirdChannel>.makeStream()
        let listeners = try await bind(handingOffTo: continuation)
        let closed = EventLoopFuture.andAllComplete(listeners.map(\.channel.closeFuture), on: group.any())
        closed.whenComplete { _ in continuation.finish() }
        let port = listeners.first?.channel.localAddress?.port ?? port
        logger.info(
            "listening",
            metadata: ["address": "\(host):\(port)", "listeners": "\(listeners.count)", "reuseport": "true"]
        )
        await onListening(port)
        let http = childChannel.http
        let logger = logger
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withDiscardingTaskGroup { group in
                    for await connection in connections {
                        group.addTask { await http.handle(value: connection, logger: logger) }
                    }
                }
            } onGracefulShutdown: {
                for listener in listeners { listener.quiescing.initiateShutdown(promise: nil) }
            }
        } onCancel: {
            for listener in listeners { listener.channel.close(promise: nil) }
        }
    }

    /// Binds one listener per event loop: the first to the configured port (0: a free one), the others to
    /// the port it got.
    private func bind(
        handingOffTo continuation: AsyncStream<CompletionIntake.HummingbirdChannel>.Continuation
    ) async throws -> [Listener] {
        var listeners: [Listener] = []
        var boundPort = port
        do {
            for loop in group.makeIterator() {
                let listener = try await bind(on: loop, port: boundPort, handingOffTo: continuation)
                boundPort = listener.channel.localAddress?.port ?? boundPort
                listeners.append(listener)
            }
        } catch {
            for listener in listeners { try? await listener.channel.close() }
            throw error
        }
        return listeners
    }

    private func bind(
        on loop: any EventLoop,
        port: Int,
        handingOffTo continuation: AsyncStream<CompletionIntake.HummingbirdChannel>.Continuation
    ) async throws -> Listener {
        let quiescing = ServerQuiescingHelper(group: loop)
        let childChannel = childChannel
        let logger = logger
        let channel = try await ServerBootstrap(group: loop)
            .serverChannelOption(ChannelOptions.backlog, value: Int32(clamping: backlog))
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(ChannelOptions.socketOption(.init(rawValue: SO_REUSEPORT)), value: 1)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        quiescing.makeServerChannelHandler(channel: channel)
                    )
                }
            }
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try childChannel.setUp(channel, logger: logger).whenSuccess { hummingbird in
                        guard let hummingbird else { return }
                        if case .terminated = continuation.yield(hummingbird) {
                            hummingbird.channel.close(promise: nil)  // the server has stopped
                        }
                    }
                }
            }
            .bind(host: host, port: port)
            .get()
        return Listener(channel: channel, quiescing: quiescing)
    }
}
