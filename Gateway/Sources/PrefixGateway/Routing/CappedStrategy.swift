import PrefixRouter

/// Wraps a strategy with a hard per-replica cap and slow start, inside the router's critical section.
///
/// PrefixRouter never refuses for load: when every replica is at its bounded-load capacity it still places
/// the request on the least loaded one. A gateway needs a hard limit (e.g. 2 × vLLM `--max-num-seqs`), so
/// this wrapper takes the base strategy's choice only if that replica holds fewer than its limit, and
/// otherwise picks the least loaded replica with room; when none has room it refuses (nil: the gateway
/// answers 429).
///
/// Slow start: a replica that becomes eligible after the router was built (it joined, came back up, or was
/// un-drained) has its limit ramped linearly from 1 to the cap over the slow-start window, so that
/// least-outstanding does not send a cold replica everything at once.
struct CappedStrategy<Base: RoutingStrategy>: RoutingStrategy {
    /// Why a request went elsewhere than the base strategy's choice: that replica was at its cap.
    static var capacitySpillReason: RoutingReason { RoutingReason("capacity_spill") }

    var base: Base
    /// Requests one replica may hold at once.
    let cap: Int
    /// The slow-start window; zero turns it off.
    let slowStart: Duration
    /// The eligible replicas at the last fleet change; nil until the first (the router's initial fleet,
    /// which does not slow-start).
    private var eligibleBefore: Set<ReplicaID>?
    /// When each ramping replica became eligible.
    private var rampStarts: [ReplicaID: ContinuousClock.Instant] = [:]
    /// `rampStarts` by fleet index, for the request path.
    private var ramping: [Fleet.Index: ContinuousClock.Instant] = [:]

    init(base: Base, cap: Int, slowStart: Duration) {
        self.base = base
        self.cap = max(1, cap)
        self.slowStart = slowStart
    }

    mutating func fleetDidChange(_ fleet: Fleet) {
        base.fleetDidChange(fleet)
        let now = ContinuousClock.now
        var eligible = Set<ReplicaID>()
        for position in 0..<fleet.eligibleCount { eligible.insert(fleet.id(of: fleet.eligible(at: position))) }
        if let before = eligibleBefore, slowStart > .zero {
            for id in eligible where !before.contains(id) { rampStarts[id] = now }
        }
        rampStarts = rampStarts.filter { eligible.contains($0.key) && now - $0.value < slowStart }
        eligibleBefore = eligible
        ramping = [:]
        for (id, start) in rampStarts {
            if let index = fleet.index(of: id) { ramping[index] = start }
        }
    }

    mutating func observe(_ feedback: RoutingFeedback, in fleet: Fleet) { base.observe(feedback, in: fleet) }

    /// The replica's limit now: the cap, or less while it ramps.
    private mutating func limit(of index: Fleet.Index, now: ContinuousClock.Instant) -> Int {
        guard !ramping.isEmpty, let start = ramping[index] else { return cap }
        let elapsed = now - start
        if elapsed >= slowStart {
            ramping[index] = nil
            return cap
        }
        let fraction = max(0, elapsed / slowStart)
        return max(1, min(cap, Int((Double(cap) * fraction).rounded(.down))))
    }

    mutating func choose(for request: RoutingRequest, in fleet: Fleet) -> RoutingChoice? {
        let now = fleet.now
        if let choice = base.choose(for: request, in: fleet),
            fleet.outstanding(of: choice.replica) < limit(of: choice.replica, now: now)
        {
            return choice
        }
        var best: Fleet.Index?
        for position in 0..<fleet.eligibleCount {
            let candidate = fleet.eligible(at: position)
            guard fleet.outstanding(of: candidate) < limit(of: candidate, now: now) else { continue }
            if best.map({ fleet.isLessLoaded(candidate, than: $0) }) ?? true { best = candidate }
        }
        return best.map { RoutingChoice($0, reason: Self.capacitySpillReason) }
    }
}
