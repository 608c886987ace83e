import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// Opens the connection of one exchange to a replica, on the client channel's event loop (so that both
/// channels of the exchange share a thread and need no locks), with small receive buffers (SSE chunks are
/// small, streams are many) and TLS for `https` replicas. A replica given by IP address is connected to
/// without name resolution.
///
/// One connection per exchange, closed with it (`connection: close`): no pool to size against the caps, and
/// nothing held between streams.
struct UpstreamConnector: Sendable {
    /// The TCP connect timeout.
    let connectTimeout: TimeAmount
    /// TLS for `https` replicas, set up on first use (loading the trust roots costs megabytes that a fleet of
    /// plain-HTTP replicas should not pay).
    private let tlsContext = NIOLockedValueBox<NIOSSLContext?>(nil)

    init(_ configuration: GatewayConfiguration) {
        connectTimeout = .milliseconds(Int64(configuration.upstream.connectTimeoutSeconds * 1_000))
    }

    private func tls() throws -> NIOSSLContext {
        try tlsContext.withLockedValue { context in
            if let context { return context }
            let made = try NIOSSLContext(configuration: .makeClientConfiguration())
            context = made
            return made
        }
    }

    /// Connects to `replica`; the channel has no handlers but TLS.
    func connect(to replica: ReplicaEndpoint, on eventLoop: any EventLoop) -> EventLoopFuture<any Channel> {
        let tls: NIOSSLContext?
        do {
            tls = replica.tls ? try self.tls() : nil
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        let serverHostname = replica.address == nil ? replica.host : nil
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(
                ChannelOptions.recvAllocator,
                value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 16_384)
            )
            .channelInitializer { channel in
                guard let tls else { return channel.eventLoop.makeSucceededVoidFuture() }
                return channel.eventLoop.makeCompletedFuture {
                    let handler = try NIOSSLClientHandler(context: tls, serverHostname: serverHostname)
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        // An IP address is connected to directly: `connect(host:port:)` would resolve it with `getaddrinfo` on
        // a dispatch queue and come back to the event loop, two thread hops on every request's way to its
        // first byte.
        if let address = replica.address { return bootstrap.connect(to: address) }
        return bootstrap.connect(host: replica.host, port: replica.port)
    }
}
