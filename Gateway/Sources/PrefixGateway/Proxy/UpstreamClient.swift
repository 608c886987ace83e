import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The HTTP client of the gateway's background work (health checks, the Batch API's dispatcher), configured
/// for long requests on plain HTTP/1.1. Interactive completions do not use it (``UpstreamConnector``).
enum UpstreamClient {
    /// A client whose per-replica pool holds at least the per-replica cap (AsyncHTTPClient's default of 8
    /// connections per host would queue the rest invisibly, out of sight of leases and the 429 gate).
    static func make(_ configuration: GatewayConfiguration) -> HTTPClient {
        var config = HTTPClient.Configuration()
        config.httpVersion = .http1Only  // vLLM and SGLang serve HTTP/1.1; h2 only over TLS ALPN anyway
        config.connectionPool = .init(
            idleTimeout: .seconds(60),
            concurrentHTTP1ConnectionsPerHostSoftLimit: configuration.admission.perReplicaCap + 16
        )
        // Fail a request at once when its replica refuses connections, so that it can be retried elsewhere
        // (by default AsyncHTTPClient keeps retrying the connection until the request's deadline).
        config.connectionPool.retryConnectionEstablishment = false
        config.timeout = .init(
            connect: .milliseconds(Int64(configuration.upstream.connectTimeoutSeconds * 1_000)),
            read: .milliseconds(Int64(configuration.upstream.readTimeoutSeconds * 1_000))
        )
        config.redirectConfiguration = .disallow
        config.decompression = .disabled
        // 512-byte initial receive buffers instead of 2 KiB: SSE chunks are small, streams are many.
        config.http1_1ConnectionDebugInitializer = { channel in
            channel.setOption(
                ChannelOptions.recvAllocator,
                value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 16_384)
            )
        }
        return HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: config)
    }
}

/// What went wrong talking to a replica, for retries, passive ejection and metrics.
enum UpstreamFailure: String, Sendable {
    /// No connection could be made (refused, unreachable, connect timeout): nothing was sent, retry elsewhere.
    case connect
    /// The replica did not answer in time.
    case timeout
    /// The connection closed before the response head.
    case closed
    /// Anything else (cancellation is not a failure: see ``classify(_:)``).
    case other

    /// Classifies an error thrown by `execute` or by reading the body; nil for a cancellation.
    static func classify(_ error: any Error) -> UpstreamFailure? {
        if error is CancellationError { return nil }
        if error is NIOConnectionError { return .connect }
        if error is HTTPParserError { return .closed }  // e.g. the connection closed mid-body
        if let error = error as? HTTPClientError {
            switch error {
            case .cancelled: return nil
            case .connectTimeout: return .connect
            case .readTimeout, .deadlineExceeded: return .timeout
            case .remoteConnectionClosed: return .closed
            default: return .other
            }
        }
        if let error = error as? ChannelError, case .connectTimeout = error { return .connect }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, EHOSTDOWN, ETIMEDOUT: return .connect
            case ECONNRESET, EPIPE: return .closed
            default: return .other
            }
        }
        return .other
    }

    /// Whether a request failing this way before any byte reached it may be sent to another replica.
    var isRetryable: Bool { self == .connect }

    /// Whether it counts toward passive ejection.
    var countsAgainstReplica: Bool { self != .other }
}
