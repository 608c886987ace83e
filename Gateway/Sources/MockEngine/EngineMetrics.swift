/// The values `/metrics` exposes, under vLLM's metric names.
struct EngineMetrics: Sendable {
    var running: Int
    var waiting: Int
    var kvCacheUsage: Double
    var prefixCacheQueries: Int
    var prefixCacheHits: Int

    /// Renders the Prometheus text exposition format (0.0.4), labelled like vLLM's.
    ///
    /// Counters are declared under their base name and sampled with `_total`, as Python's
    /// `prometheus_client` (which vLLM uses) does.
    func render(modelName: String) -> String {
        let labels = "{engine=\"0\",model_name=\"\(Self.escapeLabel(modelName))\"}"
        var text = ""
        func family(_ name: String, _ type: String, _ help: String, sample: String, _ value: Double) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(sample)\(labels) \(value)\n"
        }
        family(
            "vllm:num_requests_running",
            "gauge",
            "Number of requests in model execution batches.",
            sample: "vllm:num_requests_running",
            Double(running)
        )
        family(
            "vllm:num_requests_waiting",
            "gauge",
            "Number of requests waiting to be processed.",
            sample: "vllm:num_requests_waiting",
            Double(waiting)
        )
        family(
            "vllm:kv_cache_usage_perc",
            "gauge",
            "KV-cache usage. 1 means 100 percent usage.",
            sample: "vllm:kv_cache_usage_perc",
            kvCacheUsage
        )
        family(
            "vllm:prefix_cache_queries",
            "counter",
            "Prefix cache queries, in terms of number of queried tokens.",
            sample: "vllm:prefix_cache_queries_total",
            Double(prefixCacheQueries)
        )
        family(
            "vllm:prefix_cache_hits",
            "counter",
            "Prefix cache hits, in terms of number of cached tokens.",
            sample: "vllm:prefix_cache_hits_total",
            Double(prefixCacheHits)
        )
        return text
    }

    private static func escapeLabel(_ value: String) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
