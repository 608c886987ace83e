import NIOConcurrencyHelpers
import NIOCore

/// A request body that hands its bytes to AsyncHTTPClient once and then lets them go.
///
/// AsyncHTTPClient keeps the prepared request, body included, for as long as the response lasts: sent as
/// `.bytes(buffer)`, every prompt stays in memory for its whole generation (measured: +6 KB per stream with
/// 2.5 KB prompts, and a 32k-token prompt would keep ~128 KB per stream). Streamed from this sequence with a
/// known length, the request is framed the same way (`content-length`) but the buffer is released once it
/// has been written. Each attempt (a retry elsewhere) makes its own.
final class UpstreamRequestBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    private let buffer: NIOLockedValueBox<ByteBuffer?>

    init(_ buffer: ByteBuffer) {
        self.buffer = NIOLockedValueBox(buffer)
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let body: UpstreamRequestBody

        mutating func next() async -> ByteBuffer? {
            body.buffer.withLockedValue { buffer in
                defer { buffer = nil }
                return buffer
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(body: self) }
}
