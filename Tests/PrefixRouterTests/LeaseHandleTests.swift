@_spi(Internals) import PrefixRouter
import Testing

/// The streaming pattern: a response body written after the handler returns owns its lease through a
/// `LeaseHandle`, and every way out of the stream releases it exactly once. Exercised here without a web
/// server: an escaping `@Sendable` closure plays the body writer, as Hummingbird's `ResponseBody` does.
@Suite("Lease handles for streamed responses")
struct LeaseHandleTests {
    struct UpstreamFailure: Error {}

    /// A body writer: an escaping, sendable closure that outlives the "handler" that built it.
    typealias BodyWriter = @Sendable () async throws -> Void

    /// Routes like a handler does and returns the body writer that streams `chunks`, failing after `failAfter`
    /// chunks if set. The lease is released by the writer, never by the handler.
    static func handler(
        _ router: some Router,
        explicitRelease: Bool = true,
        chunks: Int = 3,
        failAfter: Int? = nil,
        chunkDelay: Duration = .zero
    ) throws -> (BodyWriter, ReplicaID) {
        let decision = try #require(router.route(RoutingRequest(blockHashes: [BlockHash(1)], tokenCount: 100)))
        let lease = LeaseHandle(decision.lease)
        let writer: BodyWriter = {
            for chunk in 0..<chunks {
                if chunk == failAfter { throw UpstreamFailure() }
                if chunk == 0 { lease.reportFirstToken() }
                if chunkDelay > .zero { try await Task.sleep(for: chunkDelay) }
            }
            if explicitRelease { lease.release() }
        }
        return (writer, decision.replica)
    }

    // Catches: a handle that releases when the handler returns (outstanding would read 0 while streaming).
    @Test("The lease is held after the handler returns and released at the normal end of the stream")
    func normalEnd() async throws {
        let router = try FleetRouter(replicaIDs: ["a"], strategy: RoundRobin())
        let (writer, replica) = try Self.handler(router)
        #expect(router.outstanding(of: replica) == 1)  // the handler has returned; the body is not written yet
        try await writer()
        #expect(router.outstanding(of: replica) == 0)
        #expect(router.liveLeaseCount == 0)
    }

    // Catches: a writer path that skips the release on a thrown error.
    @Test("An upstream error thrown mid-stream releases the lease when the writer is dropped")
    func thrownError() async throws {
        let router = try FleetRouter(replicaIDs: ["a"], strategy: RoundRobin())
        do {
            let (writer, _) = try Self.handler(router, failAfter: 1)
            await #expect(throws: UpstreamFailure.self) { try await writer() }
            #expect(router.liveLeaseCount == 1)  // the writer (and the handle it captures) is still alive here
        }
        #expect(router.liveLeaseCount == 0)
        #expect(router.outstanding(of: "a") == 0)
    }

    // Catches: a handle that is not released when the task running the writer is cancelled.
    @Test("A cancelled stream (client disconnect) releases the lease")
    func cancelledTask() async throws {
        let router = try FleetRouter(replicaIDs: ["a"], strategy: RoundRobin())
        var task: Task<Void, any Error>?
        do {
            let (writer, _) = try Self.handler(router, chunks: 1_000, chunkDelay: .seconds(1))
            task = Task { try await writer() }
        }
        #expect(router.liveLeaseCount == 1)
        task?.cancel()
        await #expect(throws: CancellationError.self) { try await task?.value }
        task = nil
        #expect(router.liveLeaseCount == 0)
    }

    // Catches: a LeaseHandle without a releasing deinit (a leak: outstanding never returns to 0).
    @Test("A handle dropped without an explicit release releases in deinit, exactly once")
    func droppedHandle() async throws {
        let router = try FleetRouter(replicaIDs: ["a"], strategy: RoundRobin())
        do {
            let (writer, _) = try Self.handler(router, explicitRelease: false)
            try await writer()
            #expect(router.liveLeaseCount == 1)
        }
        #expect(router.liveLeaseCount == 0)
        // An explicit release followed by deinit releases once: a second lease on the same replica survives.
        let other = try #require(router.route(RoutingRequest()))
        do {
            let handle = LeaseHandle(try #require(router.route(RoutingRequest())).lease)
            #expect(handle.release())
            #expect(!handle.release())
        }
        #expect(router.outstanding(of: "a") == 1)
        #expect(other.lease.isHeld)
        other.lease.release()
    }

    // Catches: pending prefill not decremented on first token, or decremented twice (first token + release).
    @Test("A lease's cost counts as outstanding tokens, and its uncached part as pending prefill until the first token")
    func costAndFirstToken() throws {
        let router = try FleetRouter(replicaIDs: ["a"], strategy: RoundRobin())
        let first = try #require(router.route(RoutingRequest(tokenCount: 1_000)))
        let second = try #require(router.route(RoutingRequest(tokenCount: 300)))
        #expect(first.lease.cost == LeaseCost(promptTokens: 1_000))
        var replica = try #require(router.snapshot().replica("a"))
        #expect(replica.outstandingTokens == 1_300)
        #expect(replica.pendingPrefillTokens == 1_300)
        #expect(first.lease.reportFirstToken())
        #expect(!first.lease.reportFirstToken())
        replica = try #require(router.snapshot().replica("a"))
        #expect(replica.pendingPrefillTokens == 300)
        first.lease.release()
        replica = try #require(router.snapshot().replica("a"))
        #expect(replica.outstandingTokens == 300)
        #expect(replica.pendingPrefillTokens == 300)
        second.lease.release()  // released during prefill: its pending tokens go too
        replica = try #require(router.snapshot().replica("a"))
        #expect(replica.outstandingTokens == 0 && replica.pendingPrefillTokens == 0)
        #expect(!first.lease.reportFirstToken())  // after release: nothing to report
    }

    // Catches: a callback run per copy instead of once, or a first-token callback after the release.
    @Test("A lease built by a test double runs its release action once across copies")
    func testDoubleLease() {
        final class Counter: @unchecked Sendable {
            // Only touched from this test's single task.
            var released = 0
            var firstTokens = 0
        }
        let counter = Counter()
        let lease = Lease(
            cost: LeaseCost(promptTokens: 10, cachedTokens: 4),
            onFirstToken: { counter.firstTokens += 1 },
            onRelease: { counter.released += 1 }
        )
        let copy = lease
        #expect(lease.cost.uncachedTokens == 6)
        #expect(copy.reportFirstToken())
        #expect(!lease.reportFirstToken())
        #expect(lease.isHeld)
        #expect(lease.release())
        #expect(!copy.release())
        #expect(!copy.isHeld)
        #expect(counter.released == 1)
        #expect(counter.firstTokens == 1)
        let decision = RoutingDecision(replica: "x", reason: .affinity, lease: Lease(onRelease: {}))
        #expect(decision.lease.isHeld)
    }

    @Test("Lease costs are clamped: a request claiming Int.max tokens cannot overflow the sums")
    func costIsClamped() throws {
        let router = try FleetRouter(replicaIDs: ["a"], strategy: RoundRobin())
        var request = RoutingRequest(blockHashes: [BlockHash(1)], blockSize: Int.max)
        #expect(request.tokenCount == LeaseCost.maximumTokens)  // blocks × blockSize saturates
        request.tokenCount = Int.max
        let leases = try (0..<3).map { _ in try #require(router.route(request)).lease }
        #expect(router.snapshot().replica("a")?.outstandingTokens == 3 * LeaseCost.maximumTokens)
        #expect(LeaseCost(promptTokens: -5, cachedTokens: 9) == LeaseCost(promptTokens: 0))
        #expect(LeaseCost(promptTokens: 5, cachedTokens: 9).uncachedTokens == 0)
        for lease in leases { lease.release() }
    }
}
