import Logging
import NIOConcurrencyHelpers
import PrefixRouter

/// What the gateway knows about each replica's health, from active checks and from the requests it sends,
/// and the single place that marks replicas down and up in the router.
///
/// A replica is down when its active checks failed `unhealthyThreshold` times in a row (until they pass
/// `healthyThreshold` times), or while it is ejected: `passiveFailureThreshold` consecutive request failures
/// (connect errors, timeouts, closed connections, 502/503/504; never a 4xx or a 500, which clients can
/// provoke) take it out for `ejectionSeconds`, unless that would eject more than `maxEjectedPercent` of the
/// fleet. Health is apart from drain: marking a replica up never un-drains it.
final class ReplicaHealthBook: Sendable {
    struct Entry: Sendable {
        var activeFailures = 0
        var activeSuccesses = 0
        var activeDown = false
        var requestFailures = 0
        var ejectedUntil: ContinuousClock.Instant?
        /// What the router was last told.
        var markedDown = false
    }

    private let entries = NIOLockedValueBox<[ReplicaID: Entry]>([:])
    private let router: any FleetControl
    private let settings: HealthConfiguration
    private let metrics: GatewayMetrics
    private let logger: Logger

    init(router: any FleetControl, settings: HealthConfiguration, metrics: GatewayMetrics, logger: Logger) {
        self.router = router
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
    }

    /// Starts tracking `ids` and forgets replicas not among them.
    func track(_ ids: [ReplicaID]) {
        entries.withLockedValue { entries in
            let keep = Set(ids)
            entries = entries.filter { keep.contains($0.key) }
            for id in ids where entries[id] == nil { entries[id] = Entry() }
        }
    }

    /// A request reached the replica and got an answer that says nothing against it.
    func requestSucceeded(_ id: ReplicaID) {
        entries.withLockedValue { entries in
            if entries[id]?.requestFailures != 0 { entries[id]?.requestFailures = 0 }
        }
    }

    /// A request failed in a way that counts against the replica; ejects it at the threshold.
    func requestFailed(_ id: ReplicaID, now: ContinuousClock.Instant = .now) {
        guard settings.passiveFailureThreshold > 0 else { return }
        let ejected = entries.withLockedValue { entries -> Bool in
            guard var entry = entries[id] else { return false }
            entry.requestFailures += 1
            defer { entries[id] = entry }
            guard entry.requestFailures >= settings.passiveFailureThreshold,
                entry.ejectedUntil.map({ $0 <= now }) ?? true
            else { return false }
            let ejectedNow = entries.values.filter { ($0.ejectedUntil.map { $0 > now } ?? false) }.count
            guard (ejectedNow + 1) * 100 <= settings.maxEjectedPercent * entries.count else {
                return false
            }
            entry.ejectedUntil = now + .milliseconds(Int64(settings.ejectionSeconds * 1_000))
            entry.requestFailures = 0
            return true
        }
        if ejected {
            logger.warning(
                "replica ejected after consecutive failures",
                metadata: ["replica": "\(id)", "seconds": "\(settings.ejectionSeconds)"]
            )
            metrics.healthTransition(replica: id, to: "down", cause: "ejection")
            apply(now: now)
        }
    }

    /// Records an active check's result; marks the replica down or up at the thresholds.
    func checked(_ id: ReplicaID, healthy: Bool, now: ContinuousClock.Instant = .now) {
        let changed = entries.withLockedValue { entries -> Bool in
            guard var entry = entries[id] else { return false }
            defer { entries[id] = entry }
            if healthy {
                entry.activeFailures = 0
                entry.activeSuccesses += 1
                if entry.activeDown && entry.activeSuccesses >= settings.healthyThreshold {
                    entry.activeDown = false
                    return true
                }
            } else {
                entry.activeSuccesses = 0
                entry.activeFailures += 1
                if !entry.activeDown && entry.activeFailures >= settings.unhealthyThreshold {
                    entry.activeDown = true
                    return true
                }
            }
            return false
        }
        if changed {
            metrics.healthTransition(replica: id, to: healthy ? "up" : "down", cause: "active_check")
            if healthy {
                logger.notice("replica passed its health checks", metadata: ["replica": "\(id)"])
            } else {
                logger.warning("replica failed its health checks", metadata: ["replica": "\(id)"])
            }
        }
        apply(now: now)
    }

    /// Tells the router about every replica whose health changed (including expired ejections).
    func apply(now: ContinuousClock.Instant = .now) {
        let changes = entries.withLockedValue { entries -> [(ReplicaID, Bool)] in
            var changes: [(ReplicaID, Bool)] = []
            for (id, entry) in entries {
                let down = entry.activeDown || (entry.ejectedUntil.map { $0 > now } ?? false)
                if down != entry.markedDown {
                    entries[id]?.markedDown = down
                    changes.append((id, down))
                }
            }
            return changes
        }
        for (id, down) in changes {
            do {
                if down { try router.markDown(id) } else { try router.markUp(id) }
            } catch {
                logger.debug("health change for a replica no longer in the fleet", metadata: ["replica": "\(id)"])
            }
        }
    }

    /// Whether the replica is currently ejected or failing its checks (for the admin view).
    func status(of id: ReplicaID, now: ContinuousClock.Instant = .now) -> (activeDown: Bool, ejected: Bool) {
        entries.withLockedValue { entries in
            let entry = entries[id] ?? Entry()
            return (entry.activeDown, entry.ejectedUntil.map { $0 > now } ?? false)
        }
    }
}
