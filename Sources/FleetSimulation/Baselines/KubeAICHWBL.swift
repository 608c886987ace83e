public import PrefixRouter

/// KubeAI's `PrefixHash` load balancing as shipped: consistent hashing with bounded loads on one key taken
/// from the start of the prompt (kubeai `internal/loadbalancer/balance_chwbl.go`,
/// `chwblGetAddr` and `chwblLoadOK`).
///
/// - **Key**: KubeAI hashes the first 100 characters of the first user message (XXH64). In the block-hash
///   world that is the first block hash, used as the ring position as is. Requests without blocks share one
///   key (KubeAI's key is then the empty prefix), ``emptyPromptKey``.
/// - **Ring**: 256 points per endpoint. Configure the router with ``fleetConfiguration``
///   (`virtualNodesPerWeight: 256`). The points themselves are this library's (length-prefixed XXH3), not
///   KubeAI's `XXH64(name + decimal(i))`; the geometry is statistically the same without its collisions.
/// - **Acceptance** (``AcceptanceRule/shipped``): an endpoint accepts when the total in flight is 0, or when
///   `in_flight + 1 ≤ (total + 1) ÷ N × loadFactor` (loadFactor 1.25, N = endpoints, real division, ≤, no
///   ceiling and no floor of 1). With N large and the load low the right-hand side falls below 1, no endpoint
///   accepts, and every request goes to the fallback, the ring owner: the failure fixed in kubeai PR
///   #519/#528. KubeAI's documentation states the rule as `in_flight ≤ (total + 1) ÷ N × 1.25`; the shipped code counts
///   the request being placed (`+ 1`) on the left, and only that form produces the reported failure, so it
///   is the default. ``AcceptanceRule/withoutPlacedRequest`` gives the other reading.
/// - **Walk**: clockwise over the ring's points from the key, at most one turn, each point's endpoint tested
///   (``Fleet/firstOnRing(from:where:)``).
/// - **Fallback** when no endpoint accepts: KubeAI returns the first endpoint the walk visited (its
///   `defaultEndpoint`, the ring owner), so this does too (reason ``defaultEndpointReason``).
///
/// Stateless apart from its parameters, so membership changes need no cleanup.
///
/// - Complexity: O(1) expected when the owner accepts; O(V) for V ring points when the walk goes all the way round.
public struct KubeAICHWBL: RoutingStrategy {
    /// How an endpoint's load is compared with the threshold.
    public enum AcceptanceRule: Hashable, Sendable {
        /// KubeAI's code: `in_flight + 1 ≤ (total + 1) ÷ N × c`, everything accepted when total is 0.
        case shipped
        /// The documented wording: `in_flight ≤ (total + 1) ÷ N × c`.
        case withoutPlacedRequest
    }

    /// KubeAI's ring points per endpoint.
    public static let virtualNodes = 256
    /// KubeAI's default load factor.
    public static let defaultLoadFactor = 1.25
    /// The ring key of requests without blocks (the hash of KubeAI's empty prefix stands for one fixed key).
    public static let emptyPromptKey: UInt64 = 0

    /// The ring owner accepted.
    public static let ownerReason = RoutingReason("affinity")
    /// A later endpoint on the ring accepted.
    public static let spillReason = RoutingReason("spill")
    /// No endpoint accepted; the ring owner took it anyway.
    public static let defaultEndpointReason = RoutingReason("default_endpoint")

    /// The bounded-load factor. Default 1.25.
    public let loadFactor: Double
    /// The acceptance rule. Default ``AcceptanceRule/shipped``.
    public let rule: AcceptanceRule

    /// The router configuration this strategy expects: 256 points per endpoint. (The router's own load
    /// factor is not used by this strategy, which applies ``loadFactor`` itself.)
    public static var fleetConfiguration: FleetConfiguration {
        FleetConfiguration(loadFactor: defaultLoadFactor, virtualNodesPerWeight: virtualNodes)
    }

    /// Creates the strategy.
    ///
    /// - Throws: ``PrefixRouterError`` if `loadFactor` is not a finite number > 0.
    public init(
        loadFactor: Double = KubeAICHWBL.defaultLoadFactor,
        rule: AcceptanceRule = .shipped
    ) throws(PrefixRouterError) {
        guard loadFactor.isFinite, loadFactor > 0 else {
            throw PrefixRouterError(.invalidLoadFactor, "loadFactor: expected a finite number > 0, found \(loadFactor)")
        }
        self.loadFactor = loadFactor
        self.rule = rule
    }

    /// The ring key of `request`: its first block hash, or ``emptyPromptKey``. O(1).
    public func ringKey(of request: RoutingRequest) -> UInt64 {
        request.blockHashes.first?.rawValue ?? KubeAICHWBL.emptyPromptKey
    }

    /// Whether an endpoint with `inFlight` requests accepts one more, with `total` in flight over `endpoints`.
    public func accepts(inFlight: Int, total: Int, endpoints: Int) -> Bool {
        let threshold = Double(total + 1) / Double(Swift.max(1, endpoints)) * loadFactor
        switch rule {
        case .shipped: return total == 0 || Double(inFlight) + 1 <= threshold
        case .withoutPlacedRequest: return Double(inFlight) <= threshold
        }
    }

    public mutating func choose(for request: RoutingRequest, in fleet: Fleet) -> RoutingChoice? {
        let key = ringKey(of: request)
        guard let owner = fleet.ringOwner(of: key) else { return nil }
        let total = fleet.inFlight
        let endpoints = fleet.eligibleCount
        let accepted = fleet.firstOnRing(from: key) {
            accepts(inFlight: fleet.outstanding(of: $0), total: total, endpoints: endpoints)
        }
        guard let accepted else { return RoutingChoice(owner, reason: KubeAICHWBL.defaultEndpointReason) }
        return RoutingChoice(accepted, reason: accepted == owner ? KubeAICHWBL.ownerReason : KubeAICHWBL.spillReason)
    }
}
