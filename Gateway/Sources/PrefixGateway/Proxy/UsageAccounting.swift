import PrefixRouter

/// The routing key's block hashes, kept for the life of a request so that the router can learn from its end:
/// the cached tokens its engine reports (`RoutingFeedback.cachedTokens`) and, when it completes, its
/// placement again (`RoutingFeedback.placement`, `routing.placementAtReleaseSeconds`). Only the hashes (8
/// bytes a block, the routing key's own array, not a copy), never the prompt; and only when the configured
/// strategy learns from one of them (see ``RouterFactory/learnsFromCachedTokens(_:)`` and
/// ``RouterFactory/learnsFromPlacements(_:)``), so that other strategies keep no per-stream copy.
struct CacheFeedbackKey: Sendable {
    let blockHashes: [BlockHash]
    let blockSize: Int
    /// Whether the engine's cached tokens are fed back (the strategy learns from them and the usage is read).
    let reportsCachedTokens: Bool
    /// The latest first token for which the placement is reported again at the end; nil: never.
    let placementDeadline: ContinuousClock.Instant?

    /// The key of `routing`, or nil when there is nothing to report or there are no blocks.
    ///
    /// - Parameters:
    ///   - readsUsage: whether the request's usage is read (every non-streamed answer, streams with a usage
    ///     plan): cached tokens are fed back only then.
    ///   - start: when the request was received; the placement's TTFT limit counts from it.
    init?(
        _ routing: RoutingRequest,
        configuration: RoutingConfiguration,
        readsUsage: Bool,
        start: ContinuousClock.Instant
    ) {
        let cachedTokens = readsUsage && RouterFactory.learnsFromCachedTokens(configuration.strategy)
        let limit = configuration.resolvedPlacementAtReleaseSeconds
        let placement = limit > 0 && RouterFactory.learnsFromPlacements(configuration.strategy)
        guard cachedTokens || placement, !routing.blockHashes.isEmpty else { return nil }
        blockHashes = routing.blockHashes
        blockSize = routing.blockSize
        reportsCachedTokens = cachedTokens
        placementDeadline = placement ? start + .milliseconds(Int64(Swift.min(limit, 1e9) * 1_000)) : nil
    }

    /// Whether a first token at `instant` is within the placement's TTFT limit.
    func placementDue(firstTokenAt instant: ContinuousClock.Instant) -> Bool {
        placementDeadline.map { instant <= $0 } ?? false
    }
}

extension RequestRecord {
    /// Accounts for the usage the engine reported: the token counters by model, and, when the prompt had
    /// cached blocks and the strategy learns from it, `router.observe(.cachedTokens(…))` for the replica that
    /// served the request.
    func account(_ usage: ReportedUsage, replica: ReplicaID, feedback: CacheFeedbackKey?) {
        core.metrics.usage(usage, model: model)
        guard let feedback, feedback.reportsCachedTokens, let cached = usage.cachedTokens, cached >= feedback.blockSize
        else { return }
        core.router.observe(
            .cachedTokens(cached, blockHashes: feedback.blockHashes, blockSize: feedback.blockSize, replica: replica)
        )
    }

    /// Reports a completed request's blocks again for the replica that served it
    /// (`router.observe(.placement(…))`): placement at release.
    func reportPlacement(replica: ReplicaID, feedback: CacheFeedbackKey) {
        core.router.observe(.placement(blockHashes: feedback.blockHashes, replica: replica))
    }
}
