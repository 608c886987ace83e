/// Session affinity: requests that carry the same session key go to the same replica.
///
/// Two modes:
/// - **Ring** (default): the key is XXH3 of the session's UTF-8 bytes, placed with bounded loads
///   (``Fleet/boundedLoadOwner(of:)``). Stateless, so every gateway agrees with no coordination, and a
///   session whose replica is at capacity spills deterministically.
/// - **Table** (``SessionTable``): explicit pinning. A new session goes to the least loaded replica and stays
///   there while it keeps arriving within the TTL, regardless of load; an expired session, or one whose
///   replica left or is ineligible, is pinned anew. Per-gateway state: use it with one gateway or sticky
///   client connections.
///
/// Requests without a session key go to ``fallback``.
///
/// - Complexity: ring mode as ``PrefixAffinity``; table mode O(1) expected per route, plus O(n) over the
///   eligible replicas for a new session and O(table) amortised eviction when the table is full.
public struct Sticky<Fallback: RoutingStrategy>: RoutingStrategy {
    /// The seed of session-key hashes (fixed, so that gateways agree).
    public static var sessionSeed: UInt64 { 0x5345_5353_494F_4E53 }  // "SESSIONS"

    /// Places requests without a session key.
    public var fallback: Fallback
    /// The explicit session table, or nil for ring mode.
    public private(set) var table: SessionTable?
    private var random: RandomSource

    /// Ring mode: sessions placed on the bounded-load ring.
    public init(fallback: Fallback) {
        self.fallback = fallback
        self.table = nil
        self.random = RandomSource()
    }

    /// Table mode: sessions pinned explicitly, with a TTL and a bounded size.
    public init(sessionTable: SessionTable, fallback: Fallback, seed: UInt64? = nil) {
        self.fallback = fallback
        self.table = sessionTable
        self.random = seed.map(RandomSource.init(seed:)) ?? RandomSource()
    }

    public mutating func choose(for request: RoutingRequest, in fleet: Fleet) -> RoutingChoice? {
        guard let session = request.sessionKey else {
            return fallback.choose(for: request, in: fleet).map { RoutingChoice($0.replica, reason: .fallback) }
        }
        let key = XXH3.hash(utf8: session, seed: Sticky.sessionSeed)
        guard var sessions = table.take() else {
            guard let (replica, spilled) = fleet.boundedLoadOwner(of: key) else { return nil }
            return RoutingChoice(replica, reason: spilled ? .spill : .affinity)
        }
        defer { table = sessions }
        if let pinned = sessions.lookup(key, now: fleet.now), let index = fleet.index(of: pinned),
            fleet.isEligible(index)
        {
            return RoutingChoice(index, reason: .session)
        }
        guard let replica = fleet.leastLoaded(using: &random) else { return nil }
        sessions.pin(key, to: fleet.id(of: replica), now: fleet.now)
        return RoutingChoice(replica, reason: .newSession)
    }

    public mutating func fleetDidChange(_ fleet: Fleet) { fallback.fleetDidChange(fleet) }

    /// Passes feedback on to the fallback.
    public mutating func observe(_ feedback: RoutingFeedback, in fleet: Fleet) { fallback.observe(feedback, in: fleet) }
}

/// A bounded table of explicit sessions with a time-to-live, for ``Sticky``.
///
/// Memory: at most ``capacity`` entries of about 48 bytes plus the replica id's storage.
public struct SessionTable: Sendable {
    struct Entry: Sendable {
        var replica: ReplicaID
        var expiry: ContinuousClock.Instant
    }

    /// How long a session stays pinned after its last request.
    public let timeToLive: Duration
    /// The most sessions kept; when full, expired sessions are dropped, then the eighth closest to expiry.
    public let capacity: Int
    private var entries: [UInt64: Entry] = [:]

    /// Creates an empty table.
    ///
    /// - Throws: ``PrefixRouterError`` if the TTL is not positive or the capacity is below 1.
    public init(timeToLive: Duration = .seconds(600), capacity: Int = 100_000) throws(PrefixRouterError) {
        guard timeToLive > .zero else {
            throw PrefixRouterError(.invalidParameter, "timeToLive: expected a positive duration, found \(timeToLive)")
        }
        guard capacity >= 1 else {
            throw PrefixRouterError(.invalidParameter, "capacity: expected at least 1, found \(capacity)")
        }
        self.timeToLive = timeToLive
        self.capacity = capacity
    }

    /// The number of sessions held (some may have expired and not been dropped yet).
    public var count: Int { entries.count }

    /// The replica pinned to `key`, refreshing its expiry, or nil if absent or expired. O(1) expected.
    mutating func lookup(_ key: UInt64, now: ContinuousClock.Instant) -> ReplicaID? {
        guard let entry = entries[key] else { return nil }
        guard entry.expiry > now else {
            entries[key] = nil
            return nil
        }
        // `updateValue`, not `entries[key]?.expiry = …`: the subscript's modify coroutine heap-allocates its
        // frame when called across modules (8 mallocs per route, measured by the Benchmarks package).
        entries.updateValue(Entry(replica: entry.replica, expiry: now + timeToLive), forKey: key)
        return entry.replica
    }

    /// Pins `key` to `replica` until `now + timeToLive`. O(1) expected; O(count) when the table is full.
    mutating func pin(_ key: UInt64, to replica: ReplicaID, now: ContinuousClock.Instant) {
        if entries[key] == nil, entries.count >= capacity { evict(now: now) }
        entries[key] = Entry(replica: replica, expiry: now + timeToLive)
    }

    private mutating func evict(now: ContinuousClock.Instant) {
        entries = entries.filter { $0.value.expiry > now }
        guard entries.count >= capacity else { return }
        let drop = Swift.max(1, capacity / 8)
        let oldest = entries.sorted { $0.value.expiry < $1.value.expiry }.prefix(drop).map(\.key)
        for key in oldest { entries[key] = nil }
    }
}
