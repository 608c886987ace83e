import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import NIOCore
import PrefixRouter
import Testing

/// The library's streaming pattern (DocC article "Leases for streamed responses", `LeaseHandle`'s doc
/// comment), compiled and run in a real Hummingbird application: the response body writer owns the lease.
@Suite("Streaming lease example (Hummingbird)")
struct StreamingLeaseExampleTests {
    // Catches: a lease released when the handler returns (outstanding would read 0 while the body streams)
    // and a lease that is never released (outstanding stays 1 after the response).
    @Test("the body writer owns the lease: held while streaming, released at the end")
    func bodyWriterOwnsTheLease() async throws {
        let fleet = try FleetRouter(replicaIDs: ["vllm-0", "vllm-1"], strategy: LeastOutstanding(seed: 1))
        let seenWhileStreaming = NIOLockedValueBox<[Int]>([])
        let router = Hummingbird.Router()
        router.post("/v1/chat/completions") { _, _ -> Response in
            guard let decision = fleet.route(RoutingRequest(tokenCount: 100)) else {
                return Response(status: .serviceUnavailable)
            }
            let lease = LeaseHandle(decision.lease)
            return Response(
                status: .ok,
                body: ResponseBody { writer in
                    for token in 0..<3 {
                        if token == 0 { lease.reportFirstToken() }
                        let outstanding = fleet.snapshot().inFlight
                        seenWhileStreaming.withLockedValue { $0.append(outstanding) }
                        try await writer.write(ByteBuffer(string: "data: tok\(token)\n\n"))
                    }
                    lease.release()
                    try await writer.finish(nil)
                }
            )
        }
        let app = Application(router: router)
        try await app.test(.router) { client in
            try await client.execute(uri: "/v1/chat/completions", method: .post) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "data: tok0\n\ndata: tok1\n\ndata: tok2\n\n")
            }
        }
        #expect(seenWhileStreaming.withLockedValue { $0 } == [1, 1, 1])
        #expect(fleet.liveLeaseCount == 0)
        #expect(fleet.snapshot().replicas.allSatisfy { $0.outstanding == 0 && $0.pendingPrefillTokens == 0 })
    }
}
