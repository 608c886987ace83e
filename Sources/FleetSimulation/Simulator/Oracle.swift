import PrefixRouter

/// The hit-rate upper bound: one infinite prefix cache that sees every request in arrival order.
///
/// Per request, hit tokens = min(leading blocks seen before × block size, prompt tokens) (the definition of
/// ../shared/traces/README.md); the result is token-weighted. No routing over any number of replicas with
/// any cache size can do better, except by counting a block computed for a concurrent request, which the
/// simulator never does.
public struct Oracle: Hashable, Sendable, Codable {
    /// Prompt tokens in the trace.
    public var promptTokens: Int
    /// Tokens an infinite shared cache would serve.
    public var hitTokens: Int

    /// hitTokens / promptTokens (0 for an empty trace).
    public var hitRate: Double { promptTokens > 0 ? Double(hitTokens) / Double(promptTokens) : 0 }

    /// Computes the bound for `requests`. O(total blocks) expected.
    public init(requests: [TraceRequest]) {
        var seen = Set<BlockHash>()
        var prompt = 0
        var hit = 0
        for request in requests {
            var leading = 0
            while leading < request.blockHashes.count, seen.contains(request.blockHashes[leading]) { leading += 1 }
            hit += min(leading * request.blockSize, request.inputTokens)
            prompt += request.inputTokens
            seen.formUnion(request.blockHashes)
        }
        promptTokens = prompt
        hitTokens = hit
    }

    enum CodingKeys: String, CodingKey { case promptTokens, hitTokens, hitRate }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        promptTokens = try container.decode(Int.self, forKey: .promptTokens)
        hitTokens = try container.decode(Int.self, forKey: .hitTokens)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(promptTokens, forKey: .promptTokens)
        try container.encode(hitTokens, forKey: .hitTokens)
        try container.encode(hitRate, forKey: .hitRate)
    }
}
