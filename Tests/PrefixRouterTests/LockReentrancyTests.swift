import Testing

@_spi(Simulation) @testable import PrefixRouter

/// Re-entering the router's lock from inside its critical section must stop the process with a message, not
/// run the body unlocked (the old lock ignored pthread's EDEADLK) nor hang. DEBUG builds (the test build)
/// use an error-checking mutex, so both cases below exit with a failure.
@Suite("Lock re-entrancy")
struct LockReentrancyTests {
    // Catches: ignoring pthread_mutex_lock's return code (the inner body would run without the lock and the
    // process would exit normally).
    @Test("Re-entering a LockedState stops the process")
    func lockedStateReentry() async {
        await #expect(processExitsWith: .failure) {
            let state = LockedState(0)
            state.withLock { value in
                state.withLock { inner in inner += 1 }
                value += 1
            }
        }
    }

    // Catches: an SPI probe that could call back into the router and silently corrupt its counts.
    @Test("Routing from inside withStrategy stops the process")
    func routerReentry() async {
        await #expect(processExitsWith: .failure) {
            guard let router = try? FleetRouter(replicaIDs: ["a"], strategy: RoundRobin()) else { return }
            router.withStrategy { _, _ in _ = router.route(RoutingRequest()) }
        }
    }

    @Test("The lock serialises: 4 tasks × 10,000 increments end at 40,000")
    func lockSerialises() async {
        let state = LockedState(0)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask { for _ in 0..<10_000 { state.withLock { $0 += 1 } } }
            }
        }
        #expect(state.withLock { $0 } == 40_000)
    }
}
