import PrefixRouter

/// How much batch work may start now: only spare capacity, never the interactive reserve.
///
/// With admission cap C (`admission.maxInFlight`), per-replica cap c (`admission.perReplicaCap`) and reserved
/// share r (`batch.reservedShare`):
/// - batch work takes admission slots only while ⌈r·C⌉ stay free (``AdmissionGate/tryAcquire(keepingFree:)``,
///   an atomic check), so interactive requests always find the reserve;
/// - batch work goes only to replicas holding fewer than ⌊(1−r)·c⌋ requests, so each replica keeps room
///   for interactive requests too;
/// - no new batch work starts while interactive requests in flight exceed `pauseAboveInteractiveShare`·C.
struct BatchCapacity: Sendable {
    let gate: AdmissionGate
    let reservedSlots: Int
    let perReplicaBatchCap: Int
    let pauseAbove: Double
    let maxConcurrent: Int

    init(configuration: GatewayConfiguration, batch: BatchConfiguration, gate: AdmissionGate) {
        self.gate = gate
        let limit = gate.limit
        reservedSlots = Int((Double(limit) * batch.reservedShare).rounded(.up))
        perReplicaBatchCap = Int(
            (Double(configuration.admission.perReplicaCap) * (1 - batch.reservedShare)).rounded(.down)
        )
        pauseAbove = batch.pauseAboveInteractiveShare * Double(limit)
        maxConcurrent = batch.maxConcurrentItems
    }

    /// Items that may start now, given `running` batch items of this process and the fleet's state.
    func budget(running: Int, fleet: FleetSnapshot) -> Int {
        let interactive = max(0, gate.current - running)
        guard Double(interactive) <= pauseAbove else { return 0 }
        let gateRoom = gate.limit - reservedSlots - gate.current
        var replicaRoom = 0
        for replica in fleet.replicas where replica.isEligible {
            replicaRoom += max(0, perReplicaBatchCap - replica.outstanding)
        }
        return max(0, min(gateRoom, replicaRoom, maxConcurrent - running))
    }

    /// Replicas batch work must not be routed to now (at their batch cap).
    func fullReplicas(_ fleet: FleetSnapshot) -> [ReplicaID] {
        fleet.replicas.filter { $0.outstanding >= perReplicaBatchCap }.map(\.id)
    }
}
