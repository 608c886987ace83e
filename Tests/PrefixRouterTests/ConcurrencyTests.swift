import PrefixRouter
import Testing

/// Run by `.ci/run` under the thread sanitizer (`--filter Concurrency`).
@Suite("Concurrency")
struct ConcurrencyTests {
    @Test("Concurrent routes, early and double releases, cancellation and membership churn end at zero")
    func leaseStress() async throws {
        let ids = replicaIDs(8)
        let router = try FleetRouter(replicaIDs: ids, strategy: try PrefixAffinity(fallback: LeastOutstanding()))
        let tasks = 4
        let routesPerTask = 25_000
        let routed = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<tasks {
                group.addTask {
                    var random = RandomSource(seed: UInt64(worker))
                    var held: [Lease] = []
                    var routed = 0
                    for step in 0..<routesPerTask {
                        let key = random.next(below: 4) == 0 ? 12_345 : random.next()
                        if let decision = router.route(keyedRequest(key)) {
                            routed += 1
                            if random.next(below: 3) == 0 { decision.lease.release() } else { held.append(decision.lease) }
                        }
                        if held.count > 64 || (step % 97 == 0 && !held.isEmpty) {
                            let lease = held.remove(at: random.next(below: held.count))
                            lease.release()
                            if random.next(below: 4) == 0 { lease.release() }  // double release is harmless
                        }
                    }
                    for lease in held { lease.release() }
                    return routed
                }
            }
            // Cancelled requests: each holds a lease inside withLease until cancelled.
            group.addTask {
                await withTaskGroup(of: Void.self) { inner in
                    for index in 0..<200 {
                        inner.addTask {
                            _ = try? await router.withLease(for: keyedRequest(UInt64(index))) { _ in
                                try await Task.sleep(for: .seconds(30))
                            }
                        }
                    }
                    try? await Task.sleep(for: .milliseconds(50))
                    inner.cancelAll()
                }
                return 0
            }
            // Membership churn concurrent with routing.
            group.addTask {
                var random = RandomSource(seed: 99)
                for round in 0..<200 {
                    let id = ids[random.next(below: ids.count)]
                    switch round % 4 {
                    case 0:
                        try router.remove(id)
                        try router.add(Replica(id: id, weight: 1 + random.next(below: 2)))
                    case 1:
                        try router.markDown(id)
                        try router.markUp(id)
                    case 2:
                        try router.drain(id)
                        try router.markUp(id)
                    default:
                        try router.setWeight(1 + random.next(below: 3), of: id)
                    }
                    await Task.yield()
                }
                return 0
            }
            return try await group.reduce(0, +)
        }
        #expect(routed > tasks * routesPerTask / 2)
        #expect(router.liveLeaseCount == 0)
        #expect(router.replicas.count == ids.count)
        #expect(router.replicas.allSatisfy { $0.outstanding == 0 }, "\(router.replicas)")
    }
}
