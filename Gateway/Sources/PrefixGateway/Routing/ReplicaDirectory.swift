import NIOConcurrencyHelpers
import PrefixRouter

/// The configured replicas at one moment: endpoints by id, and for each model the replicas that do *not*
/// serve it (the exclusion list handed to `route(_:excluding:)`, empty when every replica serves the model).
///
/// One router holds every replica, so a replica serving several models counts its outstanding requests once;
/// per-model routing is done by exclusion. A value: a reload builds a new one and swaps it in.
struct ReplicaDirectory: Sendable {
    /// Endpoints by replica id.
    let endpoints: [ReplicaID: ReplicaEndpoint]
    /// Replica ids in configuration order.
    let order: [ReplicaID]
    /// For each configured model, the replicas that do not serve it.
    let exclusions: [String: [ReplicaID]]
    /// Every configured model, sorted.
    let models: [String]

    init(_ replicas: [ReplicaEndpoint]) {
        var endpoints: [ReplicaID: ReplicaEndpoint] = [:]
        for replica in replicas { endpoints[replica.id] = replica }
        let models = Set(replicas.flatMap(\.models)).sorted()
        var exclusions: [String: [ReplicaID]] = [:]
        for model in models {
            exclusions[model] = replicas.filter { !$0.models.contains(model) }.map(\.id)
        }
        self.endpoints = endpoints
        self.order = replicas.map(\.id)
        self.exclusions = exclusions
        self.models = models
    }

    /// The replicas serving `model`, in configuration order.
    func replicas(serving model: String) -> [ReplicaID] {
        order.filter { endpoints[$0]?.models.contains(model) == true }
    }
}

/// The current ``ReplicaDirectory`` behind a lock, swapped whole on reload.
final class ReplicaRegistry: Sendable {
    private let box: NIOLockedValueBox<ReplicaDirectory>

    init(_ directory: ReplicaDirectory) { box = NIOLockedValueBox(directory) }

    /// The directory now (a copy: later reloads do not change it).
    var current: ReplicaDirectory { box.withLockedValue { $0 } }

    /// Replaces the directory.
    func replace(with directory: ReplicaDirectory) { box.withLockedValue { $0 = directory } }
}
