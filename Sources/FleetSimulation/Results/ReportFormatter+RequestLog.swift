extension ReportFormatter {
    /// One CSV row per request and strategy (``RequestRecord``), for runs with
    /// ``SimulationParameters/recordsRequests``: strategy, gateways, assignment, request index, arrival, first
    /// token, TTFT, completion, prompt tokens, cached tokens, replica, gateway, requests prefilled in its last
    /// step. Times in seconds; an empty TTFT for a refused request. Strategies without records add no rows.
    ///
    /// - Complexity: O(requests × strategies).
    public static func requestLog(_ report: RunReport) -> String {
        var lines = [
            "strategy,gateways,gateway_assignment,request,arrival_s,first_token_s,ttft_s,completion_s,prompt_tokens,"
                + "cached_tokens,replica,gateway,prefills_in_last_step"
        ]
        for result in report.strategies {
            let prefix = [quote(result.strategy), "\(result.gateways)", result.gatewayAssignment?.rawValue ?? ""]
            for record in result.requests ?? [] {
                let fields = [
                    "\(record.index)", "\(record.arrival)", "\(record.firstToken)",
                    record.timeToFirstToken.map { "\($0)" } ?? "", "\(record.completion)", "\(record.promptTokens)",
                    "\(record.cachedTokens)", "\(record.replica)", "\(record.gateway)", "\(record.prefillsInLastStep)",
                ]
                lines.append((prefix + fields).joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
