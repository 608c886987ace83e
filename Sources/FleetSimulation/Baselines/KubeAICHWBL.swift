public import PrefixRouter

/// KubeAI's `PrefixHash` load balancing: consistent hashing with bounded loads on one key taken from the start
/// of the prompt (kubeai `internal/loadbalancer/balance_chwbl.go`, `chwblGetAddr` and `chwblLoadOK`;
/// `api/openai/v1/chat_completions.go` for the key).
///
/// - **Key**: KubeAI hashes (XXH64) the adapter name and the first 100 characters of the first *user* message:
///   system messages are skipped. In the block-hash world the closest stand-in is the chained hash of the
///   first block past the leading blocks every request shares (the system/tool preamble):
///   ``skippedLeadingBlocks`` blocks are skipped, the bench sets it to the prefix shared by the whole trace (one
///   block on the Mooncake conversation trace, none on the synthetic one). A request no longer than the skipped
///   part keys on its last block. ``skippedLeadingBlocks`` = 0 is the first-block key, which collapses onto one
///   replica when every request opens with the same block. Requests without blocks share one key (KubeAI's key
///   is then the empty prefix), ``emptyPromptKey``. The key is used as the ring position as is.
/// - **Ring**: 256 points per endpoint. Configure the router with ``fleetConfiguration``
///   (`virtualNodesPerWeight: 256`). The points themselves are this library's (length-prefixed XXH3), not
///   KubeAI's `XXH64(name + decimal(i))`; the geometry is statistically the same without its collisions.
/// - **Acceptance** (``AcceptanceRule/current``, since kubeai PR #528, v0.21.0): an endpoint accepts when the
///   total in flight is 0, or when `in_flight ≤ (total + 1) ÷ N × loadFactor` (loadFactor 1.25, N = endpoints,
///   real division, ≤, no ceiling). ``AcceptanceRule/beforePR528`` is the earlier
///   `in_flight + 1 ≤ (total + 1) ÷ N × loadFactor`: with N large and the load low its right-hand side falls
///   below 1, no endpoint accepts, and every request goes to the ring owner (the failure PR #519/#528 fixed).
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
        /// KubeAI since PR #528: `in_flight ≤ (total + 1) ÷ N × c`, everything accepted when total is 0.
        case current
        /// KubeAI before PR #528: `in_flight + 1 ≤ (total + 1) ÷ N × c`, everything accepted when total is 0.
        case beforePR528
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
    /// The acceptance rule. Default ``AcceptanceRule/current``.
    public let rule: AcceptanceRule
    /// Leading blocks skipped before the key block (the shared system/tool preamble). Default 0.
    public let skippedLeadingBlocks: Int

    /// The router configuration this strategy expects: 256 points per endpoint. (The router's own load
    /// factor is not used by this strategy, which applies ``loadFactor`` itself.)
    public static var fleetConfiguration: FleetConfiguration {
        FleetConfiguration(loadFactor: defaultLoadFactor, virtualNodesPerWeight: virtualNodes)
    }

    /// Creates the strategy.
    ///
    /// - Throws: ``PrefixRouterError`` if `loadFactor` is not a finite number > 0 or `skippedLeadingBlocks` is
    ///   negative.
    public init(
        loadFactor: Double = KubeAICHWBL.defaultLoadFactor,
        rule: AcceptanceRule = .current,
        skippedLeadingBlocks: Int = 0
    ) throws(PrefixRouterError) {
        guard loadFactor.isFinite, loadFactor > 0 else {
            throw PrefixRouterError(.invalidLoadFactor, "loadFactor: expected a finite number > 0, found \(loadFactor)")
        }
        guard skippedLeadingBlocks >= 0 else {
            throw PrefixRouterError(
                .invalidParameter,
                "skippedLeadingBlocks: expected 0 or more, found \(skippedLeadingBlocks)"
            )
        }
        self.loadFactor = loadFactor
        self.rule = rule
        self.skippedLeadingBlocks = skippedLeadingBlocks
    }

    /// The ring key of `request`: the hash of its block ``skippedLeadingBlocks`` (its last block when it is
    /// shorter), or ``emptyPromptKey`` without blocks. O(1).
    public func ringKey(of request: RoutingRequest) -> UInt64 {
        guard !request.blockHashes.isEmpty else { return KubeAICHWBL.emptyPromptKey }
        return request.blockHashes[Swift.min(skippedLeadingBlocks, request.blockHashes.count - 1)].rawValue
    }

    /// Whether an endpoint with `inFlight` requests accepts one more, with `total` in flight over `endpoints`.
    public func accepts(inFlight: Int, total: Int, endpoints: Int) -> Bool {
        let threshold = Double(total + 1) / Double(Swift.max(1, endpoints)) * loadFactor
        switch rule {
        case .current: return total == 0 || Double(inFlight) <= threshold
        case .beforePR528: return total == 0 || Double(inFlight) + 1 <= threshold
        }
    }

    /// Chooses a replica for `request` as described in the type's documentation.
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
