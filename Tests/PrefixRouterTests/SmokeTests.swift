import PrefixRouter
import Testing

@Suite struct SmokeTests {
    @Test func routesAndReleases() throws {
        let router = try FleetRouter(replicaIDs: ["a", "b", "c"], strategy: LeastOutstanding(seed: 1))
        let decision = try #require(router.route(RoutingRequest()))
        #expect(router.outstanding(of: decision.replica) == 1)
        #expect(decision.lease.release())
        #expect(!decision.lease.release())
        #expect(router.outstanding(of: decision.replica) == 0)
    }
}
