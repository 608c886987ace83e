import CoreMetrics
import Metrics
import NIOConcurrencyHelpers
import PrefixRouter
import Prometheus

/// The gateway's metrics, exposed in Prometheus text by `GET /metrics`.
///
/// Created through swift-metrics with an explicit factory (one Prometheus registry per gateway, no global
/// bootstrap). Every label value comes from the configuration or a closed set (endpoints, status codes,
/// routing reasons, failure kinds): a model name a client sends that is not configured becomes `unknown`.
final class GatewayMetrics: Sendable {
    /// The registry `/metrics` renders.
    let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    private let counters = NIOLockedValueBox<[String: CoreMetrics.Counter]>([:])
    private let timers = NIOLockedValueBox<[String: CoreMetrics.Timer]>([:])
    private let gauges = NIOLockedValueBox<[String: CoreMetrics.Gauge]>([:])

    init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        let buckets: [Duration] = [
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2_500), .seconds(5), .seconds(10),
            .seconds(30), .seconds(60), .seconds(120), .seconds(300), .seconds(600),
        ]
        factory.defaultDurationHistogramBuckets = buckets
        self.factory = factory
    }

    /// The counter `label` with `dimensions`, created on first use.
    func counter(_ label: String, _ dimensions: [(String, String)]) -> CoreMetrics.Counter {
        let key = label + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
        return counters.withLockedValue { counters in
            if let counter = counters[key] { return counter }
            let counter = CoreMetrics.Counter(label: label, dimensions: dimensions, factory: factory)
            counters[key] = counter
            return counter
        }
    }

    /// The timer (a histogram) `label` with `dimensions`, created on first use.
    func timer(_ label: String, _ dimensions: [(String, String)]) -> CoreMetrics.Timer {
        let key = label + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
        return timers.withLockedValue { timers in
            if let timer = timers[key] { return timer }
            let timer = CoreMetrics.Timer(label: label, dimensions: dimensions, factory: factory)
            timers[key] = timer
            return timer
        }
    }

    /// The gauge `label` with `dimensions`, created on first use.
    func gauge(_ label: String, _ dimensions: [(String, String)]) -> CoreMetrics.Gauge {
        let key = label + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
        return gauges.withLockedValue { gauges in
            if let gauge = gauges[key] { return gauge }
            let gauge = CoreMetrics.Gauge(label: label, dimensions: dimensions, factory: factory)
            gauges[key] = gauge
            return gauge
        }
    }

    // MARK: Request path

    /// A finished request: `gateway_requests_total{endpoint, model, status}`.
    func request(endpoint: String, model: String, status: Int) {
        counter("gateway_requests_total", [("endpoint", endpoint), ("model", model), ("status", String(status))])
            .increment()
    }

    /// A routing decision: `gateway_routing_decisions_total{reason}`.
    func decision(_ reason: RoutingReason) {
        counter("gateway_routing_decisions_total", [("reason", reason.name)]).increment()
    }

    /// A request refused for load: `gateway_admission_rejections_total{reason}` (`global_cap`,
    /// `replica_cap`, `no_replica`, `shutting_down`).
    func rejection(_ reason: String) {
        counter("gateway_admission_rejections_total", [("reason", reason)]).increment()
    }

    /// A failed upstream attempt: `gateway_upstream_errors_total{replica, kind}`.
    func upstreamError(replica: ReplicaID, kind: String) {
        counter("gateway_upstream_errors_total", [("replica", replica.rawValue), ("kind", kind)]).increment()
    }

    /// A request sent to another replica after a failure: `gateway_upstream_retries_total{endpoint}`.
    func retry(endpoint: String) {
        counter("gateway_upstream_retries_total", [("endpoint", endpoint)]).increment()
    }

    /// Time from the request's arrival to the first upstream body byte, as the gateway saw it.
    func timeToFirstByte(_ duration: Duration, endpoint: String, model: String) {
        timer("gateway_time_to_first_byte_seconds", [("endpoint", endpoint), ("model", model)])
            .recordNanoseconds(duration.nanoseconds)
    }

    /// Time from the request's arrival to the end of its response.
    func requestDuration(_ duration: Duration, endpoint: String, model: String) {
        timer("gateway_request_duration_seconds", [("endpoint", endpoint), ("model", model)])
            .recordNanoseconds(duration.nanoseconds)
    }

    /// The usage an engine reported for a finished request: `gateway_prompt_tokens_total{model}`,
    /// `gateway_cached_prompt_tokens_total{model}` (prompt tokens the engine found in its prefix cache; their
    /// ratio is the fleet's prefix-cache hit rate as the engines saw it) and
    /// `gateway_completion_tokens_total{model}`.
    func usage(_ usage: ReportedUsage, model: String) {
        let labels = [("model", model)]
        counter("gateway_prompt_tokens_total", labels).increment(by: usage.promptTokens)
        counter("gateway_cached_prompt_tokens_total", labels).increment(by: usage.cachedTokens ?? 0)
        counter("gateway_completion_tokens_total", labels).increment(by: usage.completionTokens)
    }

    /// A passive ejection or an active health transition: `gateway_replica_health_transitions_total`.
    func healthTransition(replica: ReplicaID, to state: String, cause: String) {
        counter(
            "gateway_replica_health_transitions_total",
            [("replica", replica.rawValue), ("to", state), ("cause", cause)]
        ).increment()
    }

    // MARK: Scrape time

    /// Sets the per-replica and gateway gauges from the fleet, right before rendering.
    func update(from snapshot: FleetSnapshot, inFlight: Int) {
        gauge("gateway_in_flight_requests", []).record(inFlight)
        gauge("gateway_live_leases", []).record(snapshot.liveLeases)
        for replica in snapshot.replicas {
            let labels = [("replica", replica.id.rawValue)]
            gauge("gateway_replica_outstanding_requests", labels).record(replica.outstanding)
            gauge("gateway_replica_outstanding_tokens", labels).record(replica.outstandingTokens)
            gauge("gateway_replica_pending_prefill_tokens", labels).record(replica.pendingPrefillTokens)
            gauge("gateway_replica_capacity", labels).record(replica.capacity)
            gauge("gateway_replica_weight", labels).record(replica.weight)
            gauge("gateway_replica_up", labels).record(replica.health == .up ? 1 : 0)
            gauge("gateway_replica_draining", labels).record(replica.administrativeState == .draining ? 1 : 0)
        }
    }

    /// Drops a removed replica's gauges, so that they stop being exported.
    func forget(replica: ReplicaID) {
        let suffix = "|replica=\(replica.rawValue)"
        let removed = gauges.withLockedValue { gauges in
            let keys = gauges.keys.filter { $0.hasSuffix(suffix) }
            return keys.compactMap { gauges.removeValue(forKey: $0) }
        }
        for gauge in removed { gauge.destroy() }
    }

    /// The Prometheus text exposition.
    func render() -> [UInt8] { registry.emitToBuffer() }
}

extension Duration {
    /// The duration in whole nanoseconds (saturating).
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (product, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? .max : product + attoseconds / 1_000_000_000
    }
}
