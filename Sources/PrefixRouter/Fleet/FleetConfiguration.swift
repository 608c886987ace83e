/// Settings shared by every strategy of a ``FleetRouter``: the ring's shape and the load bound.
///
/// Every value has a documented range, checked by ``validate()`` when a router is built, so that nothing on
/// the routing path can trap on a configuration value.
public struct FleetConfiguration: Hashable, Sendable {
    /// The bounded-load factor `c`: no replica takes a request while it holds its capacity
    /// `⌈c · (m + 1) · w / W⌉` or more (see ``LoadFactor`` for the exact integer definition). Range 1.001...100,
    /// rounded to thousandths. Default 1.25 (KubeAI, SMG, brpc; HAProxy documents 1.25–2.0). Smaller is a
    /// tighter cap and more spill.
    public var loadFactor: Double
    /// Ring points per unit of replica weight. Default 160 (nginx); 1...10,000, and
    /// `weight × virtualNodesPerWeight` at most ``HashRing/maximumPointsPerReplica`` for every replica.
    public var virtualNodesPerWeight: Int
    /// The capacity no replica falls below, however idle the fleet: the bound becomes
    /// `max(minimumCapacity, ⌈c · (m + 1) · w / W⌉)`. Default 1, the paper's (and HAProxy's) floor; range
    /// 1...1,000,000.
    ///
    /// With the floor at 1, a nearly idle fleet of n replicas caps each at 1 or 2 requests, so concurrent
    /// requests that share a prefix are spread exactly when spreading them buys nothing: an inference replica
    /// batches dozens of sequences at no extra latency. A floor of a few requests (the bench measures 4–16)
    /// keeps affinity at low load and leaves the `c ×` mean bound in charge once the fleet is busy.
    public var minimumCapacity: Int

    /// The accepted range of ``minimumCapacity``.
    public static let minimumCapacityRange = 1...1_000_000

    /// Creates a configuration; ``validate()`` runs when a router is built.
    public init(
        loadFactor: Double = 1.25,
        virtualNodesPerWeight: Int = HashRing.defaultVirtualNodesPerWeight,
        minimumCapacity: Int = 1
    ) {
        self.loadFactor = loadFactor
        self.virtualNodesPerWeight = virtualNodesPerWeight
        self.minimumCapacity = minimumCapacity
    }

    /// Throws ``PrefixRouterError`` naming the field that is out of range.
    public func validate() throws(PrefixRouterError) {
        _ = try exactLoadFactor
        guard FleetConfiguration.minimumCapacityRange.contains(minimumCapacity) else {
            throw PrefixRouterError(
                .invalidParameter,
                "minimumCapacity: expected 1...1000000, found \(minimumCapacity)"
            )
        }
        guard HashRing.virtualNodesRange.contains(virtualNodesPerWeight) else {
            throw PrefixRouterError(
                .invalidVirtualNodes,
                "virtualNodesPerWeight: expected 1...10000, found \(virtualNodesPerWeight)"
            )
        }
    }

    /// ``loadFactor`` rounded to thousandths.
    ///
    /// - Throws: ``PrefixRouterError/Code/invalidLoadFactor`` when it is out of range.
    public var exactLoadFactor: LoadFactor {
        get throws(PrefixRouterError) { try LoadFactor(loadFactor) }
    }
}
