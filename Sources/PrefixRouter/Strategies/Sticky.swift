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
/// - Complexity: ring mode as ``PrefixAffinity``; table mode O(1) expected per route (eviction from a full
///   table included), plus O(n) over the eligible replicas for a new session.
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

    /// Chooses a replica for `request` as described in the type's documentation.
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

    /// Drops state about replicas that left and passes the change on to the fallback.
    public mutating func fleetDidChange(_ fleet: Fleet) { fallback.fleetDidChange(fleet) }

    /// Passes feedback on to the fallback.
    public mutating func observe(_ feedback: RoutingFeedback, in fleet: Fleet) { fallback.observe(feedback, in: fleet) }
}

/// A bounded table of explicit sessions with a time-to-live, for ``Sticky``.
///
/// Sessions are kept in recency order in an intrusive LRU (the same array-based structure as a
/// ``PrefixIndex`` replica's table: an open-addressing hash table plus a doubly-linked list of 32-bit node
/// numbers), with each session's replica and expiry in arrays indexed by node number. Every use sets the
/// expiry to `now + timeToLive`, so while time does not run backwards the least recently used session is also
/// the first to expire: inserting into a full table evicts that one session, which is an expired session if
/// there is any. An expired session is never returned; it stays (counted in ``count``) until it is pinned
/// again or evicted.
///
/// Memory: at most ``capacity`` sessions of 48 bytes (16 for the LRU node, 16 for the replica id, 16 for the
/// expiry) plus 12 bytes per hash slot, with between 4/3 and 8/3 slots per session: 64 to 80 bytes per
/// session, plus the storage of replica ids too long to be stored inline (shared with the fleet's copy).
/// The arrays grow by doubling up to the capacity and never beyond.
///
/// - Complexity: lookups and pins are O(1) expected, eviction included; allocation-free once the table has
///   stopped growing.
public struct SessionTable: Sendable {
    /// The largest accepted capacity (node numbers are 32-bit).
    public static let maximumCapacity = 1 << 30
    /// The longest accepted time to live: 365 days.
    public static let maximumTimeToLive = Duration.seconds(365 * 86_400)

    /// How long a session stays pinned after its last request.
    public let timeToLive: Duration
    /// The most sessions kept; pinning a new session into a full table evicts the least recently used one.
    public let capacity: Int
    /// Session keys in recency order; node numbers index `replicas` and `expiries`.
    private var lru: BlockLRU
    /// The replica of each LRU node.
    private var replicas: [ReplicaID] = []
    /// The expiry of each LRU node.
    private var expiries: [ContinuousClock.Instant] = []

    /// Creates an empty table; storage grows with the sessions pinned, up to `capacity`.
    ///
    /// - Throws: ``PrefixRouterError`` if the TTL is not positive or the capacity is outside
    ///   `1...maximumCapacity`.
    /// - Complexity: O(1).
    public init(timeToLive: Duration = .seconds(600), capacity: Int = 100_000) throws(PrefixRouterError) {
        // Bounded above so that `now + timeToLive` can never overflow the clock (Duration arithmetic traps).
        guard timeToLive > .zero, timeToLive <= SessionTable.maximumTimeToLive else {
            throw PrefixRouterError(
                .invalidParameter,
                "timeToLive: expected a positive duration of at most 365 days, found \(timeToLive)"
            )
        }
        guard (1...SessionTable.maximumCapacity).contains(capacity) else {
            throw PrefixRouterError(
                .invalidParameter,
                "capacity: expected 1...\(SessionTable.maximumCapacity), found \(capacity)"
            )
        }
        self.timeToLive = timeToLive
        self.capacity = capacity
        self.lru = BlockLRU(capacity: capacity)
    }

    /// The number of sessions held, at most ``capacity`` (some may have expired and not been pinned again
    /// or evicted yet). O(1).
    public var count: Int { lru.count }

    /// The replica pinned to `key`, refreshing its expiry and making it the most recently used, or nil if
    /// absent or expired (an expired session is left as it is). O(1) expected.
    mutating func lookup(_ key: UInt64, now: ContinuousClock.Instant) -> ReplicaID? {
        guard let node = lru.node(of: key) else { return nil }
        let n = Int(node)
        guard expiries[n] > now else { return nil }
        lru.markMostRecent(node)
        expiries[n] = now + timeToLive
        return replicas[n]
    }

    /// Pins `key` to `replica` until `now + timeToLive` and makes it the most recently used, evicting the
    /// least recently used session when `key` is new and the table is full. O(1) expected; amortised O(1)
    /// while the table grows.
    mutating func pin(_ key: UInt64, to replica: ReplicaID, now: ContinuousClock.Instant) {
        let n = Int(lru.touch(key))
        let expiry = now + timeToLive
        if n < replicas.count {
            replicas[n] = replica
            expiries[n] = expiry
        } else {
            // A new node (numbered `replicas.count`): grow the payload with the LRU's node reservation, so that
            // it never holds more than the capacity.
            if replicas.capacity < lru.nodeLimit {
                replicas.reserveCapacity(lru.nodeLimit)
                expiries.reserveCapacity(lru.nodeLimit)
            }
            replicas.append(replica)
            expiries.append(expiry)
        }
    }

    /// The session keys from the most to the least recently used (for tests and diagnostics). O(count).
    var keysFromMostRecent: [UInt64] { lru.keysFromNewest }
}
