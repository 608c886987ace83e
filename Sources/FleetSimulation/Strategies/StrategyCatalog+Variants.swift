import PrefixRouter

extension StrategyCatalog {
    /// An ``PrefixRouter/EstimatedTTFT`` variant described by its name, for exploring parameters without a
    /// named entry: `ettft` followed by `:key=value` settings, e.g. `ettft:l=16:d=2:cand=all`.
    ///
    /// | key | meaning | default |
    /// |---|---|---|
    /// | `l` | λ, ``PrefixRouter/EstimatedTTFT/scatterCharge`` | 8 |
    /// | `d` | δ in ms, ``PrefixRouter/EstimatedTTFT/decodeSecondsPerRequest`` | 0 |
    /// | `t` | softmax temperature | none |
    /// | `c` | safety-net load factor (`0` for none) | 4 |
    /// | `em` | `1` to read engines' waiting queues | 0 |
    /// | `cand` | `all`, `two` (two ring candidates) or `pref` (ring-preferred) | `all` |
    /// | `ix` | index capacity as a multiple of the engine cache | 1 |
    /// | `tr` | `1` to trim the index on `cached_tokens` shortfalls (needs `--cached-tokens-feedback`) | 0 |
    /// | `rel` | placement at release: the TTFT limit in seconds (`inf`: every request; see ``Entry/placementAtRelease``) | off |
    ///
    /// Returns nil for another name, an unknown key or a value that does not parse; strategy parameters out of
    /// range fail when the run builds the strategy.
    public static func variant(named name: String) -> Entry? {
        let parts = name.split(separator: ":")
        guard parts.first == "ettft" else { return nil }
        var settings: [String: Double] = [:]
        var candidates = "all"
        for part in parts.dropFirst() {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { return nil }
            if pair[0] == "cand" {
                guard ["all", "two", "pref"].contains(pair[1]) else { return nil }
                candidates = pair[1]
                continue
            }
            guard ["l", "d", "t", "c", "em", "ix", "tr", "rel"].contains(pair[0]), let value = Double(pair[1]) else {
                return nil
            }
            settings[pair[0]] = value
        }
        let summary = "EstimatedTTFT variant (bench exploration)"
        return Entry(name, summary, placementAtRelease: settings["rel"]) { [settings, candidates] context in
            let depth = context.keyDepthTokens
            let choice: EstimatedTTFT<LeastOutstanding>.Candidates =
                candidates == "two"
                ? .twoOnRing(keyDepthTokens: depth)
                : candidates == "pref" ? .ringPreferred(keyDepthTokens: depth) : .all
            let factor = settings["c"] ?? 4
            return try recommended(
                context,
                candidates: choice,
                scatterCharge: settings["l"] ?? 8,
                usesEngineMetrics: (settings["em"] ?? 0) != 0,
                decodeSecondsPerRequest: (settings["d"] ?? 0) / 1000,
                loadFactor: factor == 0 ? nil : factor,
                indexScale: settings["ix"] ?? 1,
                temperature: settings["t"],
                correctsIndexFromCachedTokens: (settings["tr"] ?? 0) != 0
            )
        }
    }
}
