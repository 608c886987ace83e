import Testing

@_spi(Internals) @testable import PrefixRouter

/// `SessionTable`, the state of `Sticky`'s table mode: LRU eviction, TTL expiry, the capacity bound.
@Suite("Session table")
struct SessionTableTests {
    static let start = ContinuousClock.now

    static func at(_ seconds: Double) -> ContinuousClock.Instant { start.advanced(by: .seconds(seconds)) }

    /// A naive model of the table: an array from the most to the least recently used session.
    struct Model {
        struct Session {
            var key: UInt64
            var replica: ReplicaID
            var expiry: ContinuousClock.Instant
        }

        let capacity: Int
        let timeToLive: Duration
        var sessions: [Session] = []

        mutating func lookup(_ key: UInt64, now: ContinuousClock.Instant) -> ReplicaID? {
            guard let position = sessions.firstIndex(where: { $0.key == key }) else { return nil }
            var session = sessions[position]
            guard session.expiry > now else { return nil }
            session.expiry = now + timeToLive
            sessions.remove(at: position)
            sessions.insert(session, at: 0)
            return session.replica
        }

        mutating func pin(_ key: UInt64, to replica: ReplicaID, now: ContinuousClock.Instant) {
            if let position = sessions.firstIndex(where: { $0.key == key }) {
                sessions.remove(at: position)
            } else if sessions.count == capacity {
                sessions.removeLast()
            }
            sessions.insert(Session(key: key, replica: replica, expiry: now + timeToLive), at: 0)
        }
    }

    /// 40 seeds × 2,000 random lookups and pins over a key space three times the capacity, with time moving
    /// so that sessions expire: every answer, the count and the recency order agree with the naive model, and
    /// the count never exceeds the capacity.
    ///
    /// Catches: evicting any session but the least recently used one (the order or a lookup diverges); a
    /// lookup that does not refresh recency or expiry; an expired session returned (`>` → `>=` or dropped
    /// check); a recycled node keeping its old replica or a re-pin adding a second node (an answer or the
    /// count diverges); `keys.count < capacity` → `<=` in the LRU (the count exceeds the capacity).
    @Test("Random churn agrees with a naive LRU model and never exceeds the capacity", arguments: 0..<40)
    func churnAgreesWithModel(seed: Int) throws {
        var random = RandomSource(seed: UInt64(seed))
        let capacity = [1, 2, 3, 7, 8, 64][seed % 6]
        let timeToLive = Duration.seconds(10)
        var table = try SessionTable(timeToLive: timeToLive, capacity: capacity)
        var model = Model(capacity: capacity, timeToLive: timeToLive)
        let replicas = replicaIDs(5)
        var clock = 0.0
        for step in 0..<2_000 {
            // Mostly small steps, sometimes a jump past the TTL.
            clock += random.next(below: 50) == 0 ? 11 : Double(random.next(below: 1_000)) / 1_000
            let now = Self.at(clock)
            let key = UInt64(random.next(below: capacity * 3)) &* 0x9E37_79B9_7F4A_7C15
            let found = table.lookup(key, now: now)
            #expect(found == model.lookup(key, now: now), "seed \(seed) step \(step)")
            if found == nil || random.next(below: 8) == 0 {
                let replica = replicas[random.next(below: replicas.count)]
                table.pin(key, to: replica, now: now)
                model.pin(key, to: replica, now: now)
            }
            #expect(table.count == model.sessions.count, "seed \(seed) step \(step)")
            #expect(table.count <= capacity, "seed \(seed) step \(step)")
            #expect(table.keysFromMostRecent == model.sessions.map(\.key), "seed \(seed) step \(step)")
        }
        // Enough distinct keys were pinned to fill the table: the bound was exercised, not just respected.
        #expect(table.count == capacity, "seed \(seed)")
    }

    /// Catches: evicting in insertion order (FIFO) instead of recency order, or a lookup that does not move a
    /// session to the front (then `a`, the oldest pin, would be evicted instead of `b`).
    @Test("A full table evicts the least recently used session, counting lookups as uses")
    func evictsLeastRecentlyUsed() throws {
        var table = try SessionTable(timeToLive: .seconds(100), capacity: 3)
        table.pin(1, to: "a", now: Self.at(0))
        table.pin(2, to: "b", now: Self.at(1))
        table.pin(3, to: "c", now: Self.at(2))
        #expect(table.lookup(1, now: Self.at(3)) == "a")
        #expect(table.keysFromMostRecent == [1, 3, 2])
        table.pin(4, to: "d", now: Self.at(4))
        #expect(table.count == 3)
        #expect(table.lookup(2, now: Self.at(5)) == nil)
        #expect(table.lookup(1, now: Self.at(5)) == "a")
        #expect(table.lookup(3, now: Self.at(5)) == "c")
        #expect(table.lookup(4, now: Self.at(5)) == "d")
    }

    /// Catches: `expiry > now` → `>=` (the session would survive its exact expiry); a lookup that does not
    /// refresh the expiry (the second lookup, 19 s after the pin, would miss); refreshing an expired session
    /// on a failed lookup (the repeated lookup at the expiry would hit).
    @Test("A lookup refreshes the TTL; a session is not returned from its expiry on")
    func timeToLive() throws {
        var table = try SessionTable(timeToLive: .seconds(10), capacity: 4)
        table.pin(7, to: "r0", now: Self.at(0))
        #expect(table.lookup(7, now: Self.at(9)) == "r0")  // expiry now 19
        #expect(table.lookup(7, now: Self.at(18.5)) == "r0")  // expiry now 28.5
        #expect(table.lookup(7, now: Self.at(28.5)) == nil)  // exactly at the expiry
        #expect(table.lookup(7, now: Self.at(28.5)) == nil)  // the failed lookup refreshed nothing
        #expect(table.lookup(7, now: Self.at(30)) == nil)
    }

    /// Catches: a re-pin that appends a second node for the key (the count would be 2) or leaves the old
    /// replica in place (the lookup would answer `r0`).
    @Test("An expired session is pinned anew in place, to the new replica")
    func repinAfterExpiry() throws {
        var table = try SessionTable(timeToLive: .seconds(10), capacity: 2)
        table.pin(7, to: "r0", now: Self.at(0))
        table.pin(8, to: "r1", now: Self.at(1))
        #expect(table.lookup(7, now: Self.at(12)) == nil)
        table.pin(7, to: "r2", now: Self.at(12))
        #expect(table.count == 2)
        #expect(table.keysFromMostRecent == [7, 8])
        #expect(table.lookup(7, now: Self.at(21)) == "r2")
        // The other session expired at 11 and is the one a new session evicts.
        table.pin(9, to: "r3", now: Self.at(21))
        #expect(table.keysFromMostRecent == [9, 7])
        #expect(table.lookup(9, now: Self.at(22)) == "r3")
    }

    /// Catches: dropping the capacity guard (a table that cannot index its nodes with 32 bits), or making the
    /// range exclusive (`1...` → `1..<`, refusing the largest capacity).
    @Test("The capacity must be in 1...maximumCapacity; capacity 1 holds one session")
    func capacityRange() throws {
        #expect(throws: PrefixRouterError.self) { _ = try SessionTable(capacity: SessionTable.maximumCapacity + 1) }
        #expect(throws: PrefixRouterError.self) { _ = try SessionTable(capacity: 0) }
        #expect(try SessionTable(capacity: SessionTable.maximumCapacity).capacity == SessionTable.maximumCapacity)
        var table = try SessionTable(capacity: 1)
        table.pin(1, to: "a", now: Self.at(0))
        table.pin(2, to: "b", now: Self.at(0))
        #expect(table.count == 1)
        #expect(table.lookup(1, now: Self.at(0)) == nil)
        #expect(table.lookup(2, now: Self.at(0)) == "b")
    }

    /// Through the router: sessions beyond the capacity evict the least recently used one, which then comes
    /// back as a new session, while a session kept in use stays on its replica.
    ///
    /// Catches: a `Sticky` that stops consulting or refreshing the table (`kept` would be re-pinned), or an
    /// eviction that drops `kept` instead of the idle sessions.
    @Test("Sticky table mode: a session kept in use survives churn through a full table")
    func stickyKeepsTheSessionInUse() throws {
        let table = try SessionTable(timeToLive: .seconds(60), capacity: 8)
        let router = try FleetRouter(
            replicaIDs: replicaIDs(4),
            strategy: Sticky(sessionTable: table, fallback: RoundRobin(), seed: 3)
        )
        let first = try #require(router.route(RoutingRequest(sessionKey: "kept"), at: Self.at(0)))
        first.lease.release()
        for index in 0..<100 {
            let now = Self.at(Double(index) / 10)
            let other = try #require(router.route(RoutingRequest(sessionKey: "idle-\(index)"), at: now))
            #expect(other.reason == .newSession)
            other.lease.release()
            let kept = try #require(router.route(RoutingRequest(sessionKey: "kept"), at: now))
            #expect(kept.reason == .session, "index \(index)")
            #expect(kept.replica == first.replica, "index \(index)")
            kept.lease.release()
        }
        // idle-0 was evicted long ago (well within its TTL): it is a new session again.
        let again = try #require(router.route(RoutingRequest(sessionKey: "idle-0"), at: Self.at(10)))
        #expect(again.reason == .newSession)
        again.lease.release()
        #expect(router.liveLeaseCount == 0)
    }
}
