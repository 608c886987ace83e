/// Settings shared by every strategy of a ``FleetRouter``: the ring's shape and the load bound.
public struct FleetConfiguration: Hashable, Sendable {
    /// The bounded-load factor `c`: no replica takes a request while it holds `ceil(c · (m + 1) / n)` or
    /// more (scaled by weight). Must be a finite number greater than 1. Default 1.25 (KubeAI, SMG, brpc;
    /// HAProxy documents 1.25–2.0). Smaller is a tighter cap and more spill.
    public var loadFactor: Double
    /// Ring points per unit of replica weight. Default 160 (nginx); 1...10,000.
    public var virtualNodesPerWeight: Int
    /// The capacity no replica falls below, however idle the fleet: the bound becomes
    /// `max(minimumCapacity, ceil(c · (m + 1) · w / W))`. Default 1, the paper's (and HAProxy's) floor.
    ///
    /// With the floor at 1, a nearly idle fleet of n replicas caps each at 1 or 2 requests, so concurrent
    /// requests that share a prefix are spread exactly when spreading them buys nothing: an inference replica
    /// batches dozens of sequences at no extra latency. A floor of a few requests (the bench measures 4–16)
    /// keeps affinity at low load and leaves the `c ×` mean bound in charge once the fleet is busy.
    public var minimumCapacity: Int

    /// Creates a configuration; ``validate()`` runs when a router is built.
    public init(
        loadFactor: Double = 1.25, virtualNodesPerWeight: Int = HashRing.defaultVirtualNodesPerWeight,
        minimumCapacity: Int = 1
    ) {
        self.loadFactor = loadFactor
        self.virtualNodesPerWeight = virtualNodesPerWeight
        self.minimumCapacity = minimumCapacity
    }

    /// Throws ``PrefixRouterError`` naming the field that is out of range.
    public func validate() throws(PrefixRouterError) {
        guard loadFactor.isFinite, loadFactor > 1 else {
            throw PrefixRouterError(
                .invalidLoadFactor, "loadFactor: expected a finite number greater than 1, found \(loadFactor)")
        }
        guard (1...1_000_000).contains(minimumCapacity) else {
            throw PrefixRouterError(
                .invalidParameter, "minimumCapacity: expected 1...1000000, found \(minimumCapacity)")
        }
        guard (1...10_000).contains(virtualNodesPerWeight) else {
            throw PrefixRouterError(
                .invalidVirtualNodes, "virtualNodesPerWeight: expected 1...10000, found \(virtualNodesPerWeight)")
        }
    }
}
