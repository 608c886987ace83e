/// Settings shared by every strategy of a ``FleetRouter``: the ring's shape and the load bound.
public struct FleetConfiguration: Hashable, Sendable {
    /// The bounded-load factor `c`: no replica takes a request while it holds `ceil(c · (m + 1) / n)` or
    /// more (scaled by weight). Must be a finite number greater than 1. Default 1.25 (KubeAI, SMG, brpc;
    /// HAProxy documents 1.25–2.0). Smaller is a tighter cap and more spill.
    public var loadFactor: Double
    /// Ring points per unit of replica weight. Default 160 (nginx); 1...10,000.
    public var virtualNodesPerWeight: Int

    /// Creates a configuration; ``validate()`` runs when a router is built.
    public init(loadFactor: Double = 1.25, virtualNodesPerWeight: Int = HashRing.defaultVirtualNodesPerWeight) {
        self.loadFactor = loadFactor
        self.virtualNodesPerWeight = virtualNodesPerWeight
    }

    /// Throws ``PrefixRouterError`` naming the field that is out of range.
    public func validate() throws(PrefixRouterError) {
        guard loadFactor.isFinite, loadFactor > 1 else {
            throw PrefixRouterError(
                .invalidLoadFactor, "loadFactor: expected a finite number greater than 1, found \(loadFactor)")
        }
        guard (1...10_000).contains(virtualNodesPerWeight) else {
            throw PrefixRouterError(
                .invalidVirtualNodes, "virtualNodesPerWeight: expected 1...10000, found \(virtualNodesPerWeight)")
        }
    }
}
