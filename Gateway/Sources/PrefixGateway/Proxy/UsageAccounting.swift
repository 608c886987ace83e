import PrefixRouter

/// The routing key's block hashes, kept for the life of a request so that the cached tokens its engine
/// reports can be fed back to the router (`RoutingFeedback.cachedTokens`). Only the hashes (8 bytes a
/// block), never the prompt; and only when the configured strategy learns from that feedback (see
/// ``RouterFactory/learnsFromCachedTokens(_:)``), so that other strategies keep no per-stream copy.
struct CacheFeedbackKey: Sendable {
    let blockHashes: [BlockHash]
    let blockSize: Int

    /// The key of `routing`, or nil when `strategy` ignores cached-token feedback or there are no blocks.
    init?(_ routing: RoutingRequest, strategy: RoutingStrategyName) {
        guard RouterFactory.learnsFromCachedTokens(strategy), !routing.blockHashes.isEmpty else { return nil }
        blockHashes = routing.blockHashes
        blockSize = routing.blockSize
    }
}

extension RequestRecord {
    /// Accounts for the usage the engine reported: the token counters by model, and, when the prompt had
    /// cached blocks and the strategy learns from it, `router.observe(.cachedTokens(…))` for the replica that
    /// served the request.
    func account(_ usage: ReportedUsage, replica: ReplicaID, feedback: CacheFeedbackKey?) {
        core.metrics.usage(usage, model: model)
        guard let feedback, let cached = usage.cachedTokens, cached >= feedback.blockSize else { return }
        core.router.observe(
            .cachedTokens(cached, blockHashes: feedback.blockHashes, blockSize: feedback.blockSize, replica: replica)
        )
    }
}
