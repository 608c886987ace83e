import Foundation

/// Renders a ``RunReport`` as a text table or CSV.
public enum ReportFormatter {
    /// A fixed-width text table with a header describing the workload and the fleet.
    public static func table(_ report: RunReport) -> String {
        let p = report.parameters
        let w = report.workload
        var lines: [String] = []
        let cache = w.cacheBlocks.map { "\($0) blocks × \(w.blockSize) tokens" } ?? "unbounded"
        lines.append(
            "workload: \(w.source) (\(w.format.rawValue)), \(w.requests) requests over \(format(w.spanSeconds, 1)) s"
                + (p.speedup != 1 ? " (speed-up \(format(p.speedup, 2)))" : "")
        )
        if !w.hasPrefixInfo {
            lines.append(
                "note: this trace carries no prefix information: no strategy can hit the cache; compare load only"
            )
        }
        if w.skippedLines > 0 {
            lines.append(
                "skipped \(w.skippedLines) invalid lines (--skip-invalid), first: \(w.skippedExamples.first ?? "")"
            )
        }
        lines.append(
            "fleet: \(p.replicas) replicas, cache \(cache), prefill \(format(p.prefillTokensPerSecond, 0)) tok/s + "
                + "\(format(p.prefillOverheadSeconds * 1000, 1)) ms, decode step \(format(p.decodeStepSeconds * 1000, 1)) ms + "
                + "\(format(p.decodeSecondsPerContextToken * 1e9, 0)) ns/context token, max batch \(p.maxRunningRequests), "
                + "load factor \(format(p.loadFactor, 2)), min capacity \(p.minimumCapacity), key depth \(p.keyDepthTokens) tokens, seed \(p.seed), "
                + "\(p.gateways) gateway(s)"
                + (p.syncDelaySeconds.map { ", decisions shared after \(format($0 * 1000, 0)) ms" } ?? "")
                + ", engine metrics every \(format(p.metricsIntervalSeconds * 1000, 0)) ms"
        )
        var header = [
            "strategy", "reqs", "hit%", "/oracle", "/pooled", "/pinned", "TTFT p50", "p90", "p99", "E2E p50", "p99",
            "tok/s",
            "imbal", "w-imbal",
            "peak", "spill%", "fallbk%",
        ]
        let churn = p.churn
        if churn { header.append("moved%") }
        if p.measureRoutingCost { header.append("ns/route") }
        var rows: [[String]] = [header]
        let pooled = report.references.pooledLRU.hitRate
        let pinned = report.references.pooledPinned.hitRate
        func ratio(_ value: Double, _ reference: Double) -> String {
            reference > 0 ? format(value / reference, 2) : "-"
        }
        func referenceRow(_ name: String, hitRate: Double?, ttft: StrategyResult.Percentiles? = nil) -> [String] {
            let ratios: [String] = [report.oracle.hitRate, pooled, pinned].map { reference in
                hitRate.map { ratio($0, reference) } ?? "-"
            }
            var row: [String] = [name, "\(w.requests)", hitRate.map { format($0 * 100, 1) } ?? "-"] + ratios
            if let ttft { row += [seconds(ttft.p50), seconds(ttft.p90), seconds(ttft.p99)] }
            return row + Array(repeating: "-", count: header.count - row.count)
        }
        let blocks = report.references.pooledLRU.capacityBlocks
        rows.append(referenceRow("oracle (one infinite cache)", hitRate: report.oracle.hitRate))
        rows.append(
            referenceRow(
                "pooled LRU (\(p.replicas) × \(w.cacheBlocks.map(String.init) ?? "∞") blocks)",
                hitRate: pooled
            )
        )
        rows.append(
            referenceRow(
                "pooled LRU, running requests pinned (timed)",
                hitRate: report.references.pooledPinned.hitRate
            )
        )
        rows.append(
            referenceRow(
                "clairvoyant, \(blocks.map(String.init) ?? "∞") blocks (unreachable)",
                hitRate: report.references.belady.hitRate
            )
        )
        rows.append(referenceRow("TTFT floor (own prefill, no queue)", hitRate: nil, ttft: report.references.ttftFloor))
        for s in report.strategies {
            let label =
                s.gateways > 1 ? "\(s.strategy) [\(s.gateways) gw/\(s.gatewayAssignment?.rawValue ?? "-")]" : s.strategy
            var row = [
                label, "\(s.completed)", format(s.hitRate * 100, 1),
                s.hitRateOverOracle.map { format($0, 2) } ?? "-", ratio(s.hitRate, pooled), ratio(s.hitRate, pinned),
                seconds(s.ttft.p50), seconds(s.ttft.p90), seconds(s.ttft.p99), seconds(s.endToEnd.p50),
                seconds(s.endToEnd.p99), format(s.throughputTokensPerSecond, 0), format(s.imbalanceTimeAveraged, 2),
                format(s.workImbalanceTimeAveraged, 2), "\(s.peakOutstanding)", format(s.spillRate * 100, 1),
                format(s.fallbackRate * 100, 1),
            ]
            if churn { row.append(s.keysMovedShare.map { format($0 * 100, 1) } ?? "-") }
            if p.measureRoutingCost { row.append(s.routingNanosecondsPerCall.map { format($0, 0) } ?? "-") }
            rows.append(row)
        }
        let widths = (0..<header.count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        for (index, row) in rows.enumerated() {
            let cells = row.enumerated().map { column, cell in
                column == 0
                    ? cell.padding(toLength: widths[0], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[column] - cell.count) + cell
            }
            lines.append(cells.joined(separator: "  "))
            if index == 0 { lines.append(String(repeating: "-", count: cells.joined(separator: "  ").count)) }
        }
        lines.append(
            "TTFT/E2E in seconds; hit% token-weighted; /pooled = hit ÷ the pooled-LRU line; /pinned = hit ÷ the pooled line with running requests pinned; imbal = time-averaged max/mean outstanding per replica; "
                + "w-imbal = the same for pending prefill tokens; "
                + "peak = most outstanding on one replica"
        )
        return lines.joined(separator: "\n") + "\n"
    }

    /// One CSV row per strategy with every figure and every parameter (RFC 4180 quoting).
    public static func csv(_ report: RunReport) -> String {
        let p = report.parameters
        let w = report.workload
        let header = [
            "strategy", "arrived", "completed", "unrouted", "prompt_tokens", "hit_tokens", "in_prefill_tokens",
            "output_tokens", "hit_rate", "hit_rate_over_oracle", "ttft_p50_s", "ttft_p90_s", "ttft_p99_s", "e2e_p50_s",
            "e2e_p90_s", "e2e_p99_s", "throughput_tokens_per_s", "imbalance_time_averaged",
            "work_imbalance_time_averaged", "gateways", "gateway_assignment",
            "sync_delay_s", "peak_outstanding",
            "spill_rate", "fallback_rate", "keys_moved_share", "routing_ns_per_call", "oracle_hit_rate",
            "pooled_lru_hit_rate", "pooled_pinned_lru_hit_rate", "belady_hit_rate",
            "hit_rate_over_pooled", "hit_rate_over_pooled_pinned", "ttft_floor_p50_s", "ttft_floor_p90_s",
            "ttft_floor_p99_s", "source",
            "format", "has_prefix_info", "block_size", "cache_blocks", "replicas", "kv_cache_tokens",
            "prefill_tokens_per_s", "prefill_overhead_s", "decode_step_s", "decode_s_per_context_token",
            "max_running", "prefill_batch_tokens", "load_factor", "min_capacity", "virtual_nodes", "key_depth_tokens",
            "speedup", "seed", "churn",
        ]
        var lines = [header.joined(separator: ",")]
        for s in report.strategies {
            let fields: [String] = [
                s.strategy, "\(s.arrived)", "\(s.completed)", "\(s.unrouted)", "\(s.promptTokens)", "\(s.hitTokens)",
                "\(s.inPrefillTokens)", "\(s.outputTokens)", "\(s.hitRate)", s.hitRateOverOracle.map { "\($0)" } ?? "",
                "\(s.ttft.p50)", "\(s.ttft.p90)", "\(s.ttft.p99)", "\(s.endToEnd.p50)", "\(s.endToEnd.p90)",
                "\(s.endToEnd.p99)", "\(s.throughputTokensPerSecond)", "\(s.imbalanceTimeAveraged)",
                "\(s.workImbalanceTimeAveraged)", "\(s.gateways)", s.gatewayAssignment?.rawValue ?? "",
                p.syncDelaySeconds.map { "\($0)" } ?? "", "\(s.peakOutstanding)", "\(s.spillRate)", "\(s.fallbackRate)",
                s.keysMovedShare.map { "\($0)" } ?? "",
                s.routingNanosecondsPerCall.map { "\($0)" } ?? "", "\(report.oracle.hitRate)",
                "\(report.references.pooledLRU.hitRate)", "\(report.references.pooledPinned.hitRate)",
                "\(report.references.belady.hitRate)",
                report.references.pooledLRU.hitRate > 0 ? "\(s.hitRate / report.references.pooledLRU.hitRate)" : "",
                report.references.pooledPinned.hitRate > 0
                    ? "\(s.hitRate / report.references.pooledPinned.hitRate)" : "",
                "\(report.references.ttftFloor.p50)", "\(report.references.ttftFloor.p90)",
                "\(report.references.ttftFloor.p99)", w.source,
                w.format.rawValue, "\(w.hasPrefixInfo)", "\(w.blockSize)", w.cacheBlocks.map { "\($0)" } ?? "unbounded",
                "\(p.replicas)", "\(p.kvCacheTokens)", "\(p.prefillTokensPerSecond)", "\(p.prefillOverheadSeconds)",
                "\(p.decodeStepSeconds)", "\(p.decodeSecondsPerContextToken)", "\(p.maxRunningRequests)",
                "\(p.prefillBatchTokens)", "\(p.loadFactor)", "\(p.minimumCapacity)", "\(p.virtualNodes)",
                "\(p.keyDepthTokens)", "\(p.speedup)", "\(p.seed)",
                "\(p.churn)",
            ]
            lines.append(fields.map(quote).joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func quote(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func format(_ value: Double, _ decimals: Int) -> String { String(format: "%.\(decimals)f", value) }

    static func seconds(_ value: Double) -> String {
        value < 10 ? format(value, 3) : value < 100 ? format(value, 2) : format(value, 1)
    }
}
