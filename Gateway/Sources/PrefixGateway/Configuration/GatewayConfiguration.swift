/// Everything the gateway is configured with: where it listens, the replicas, the routing strategy, the
/// admission caps, upstream timeouts and retries, API keys, health checking and shutdown.
///
/// Read from a JSON file (``load(contentsOf:)``) and/or built from command-line flags; every field has a
/// default except the replicas. Unknown fields are rejected, so a misspelt setting is an error naming it.
/// ``validate(source:)`` checks every range and names the offending field.
///
/// ```json
/// {
///   "listen": { "host": "0.0.0.0", "port": 8080 },
///   "replicas": [
///     { "url": "http://10.0.0.1:8000", "models": ["meta-llama/Llama-3.1-8B-Instruct"], "weight": 1 },
///     { "url": "http://10.0.0.2:8000", "models": ["meta-llama/Llama-3.1-8B-Instruct"], "apiKey": "…" }
///   ],
///   "routing": { "strategy": "estimated-ttft", "cacheBlocksPerReplica": 26000 },
///   "admission": { "maxInFlight": 4096, "perReplicaCap": 256 },
///   "auth": { "apiKeys": ["sk-…"], "adminKey": "…" }
/// }
/// ```
public struct GatewayConfiguration: Sendable, Codable, Equatable {
    /// Where the gateway listens.
    public var listen: ListenConfiguration
    /// The inference replicas and the models each serves.
    public var replicas: [ReplicaConfiguration]
    /// The routing strategy and its parameters.
    public var routing: RoutingConfiguration
    /// Admission caps and the request size limit.
    public var admission: AdmissionConfiguration
    /// Upstream timeouts, retries and connection pool.
    public var upstream: UpstreamConfiguration
    /// Client and admin keys.
    public var auth: AuthConfiguration
    /// Active health checks, passive ejection and slow start.
    public var health: HealthConfiguration
    /// Graceful shutdown.
    public var shutdown: ShutdownConfiguration
    /// The Batch API and its queue; nil (the default): off.
    public var batch: BatchConfiguration?

    /// Creates a configuration; every part has its documented default.
    public init(
        listen: ListenConfiguration = .init(),
        replicas: [ReplicaConfiguration] = [],
        routing: RoutingConfiguration = .init(),
        admission: AdmissionConfiguration = .init(),
        upstream: UpstreamConfiguration = .init(),
        auth: AuthConfiguration = .init(),
        health: HealthConfiguration = .init(),
        shutdown: ShutdownConfiguration = .init(),
        batch: BatchConfiguration? = nil
    ) {
        self.listen = listen
        self.replicas = replicas
        self.routing = routing
        self.admission = admission
        self.upstream = upstream
        self.auth = auth
        self.health = health
        self.shutdown = shutdown
        self.batch = batch
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case listen, replicas, routing, admission, upstream, auth, health, shutdown
        case batch
    }

    /// Decodes a configuration; missing parts take their defaults, unknown fields are an error.
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        listen = try c.decodeIfPresent(ListenConfiguration.self, forKey: .listen) ?? .init()
        replicas = try c.decodeIfPresent([ReplicaConfiguration].self, forKey: .replicas) ?? []
        routing = try c.decodeIfPresent(RoutingConfiguration.self, forKey: .routing) ?? .init()
        admission = try c.decodeIfPresent(AdmissionConfiguration.self, forKey: .admission) ?? .init()
        upstream = try c.decodeIfPresent(UpstreamConfiguration.self, forKey: .upstream) ?? .init()
        auth = try c.decodeIfPresent(AuthConfiguration.self, forKey: .auth) ?? .init()
        health = try c.decodeIfPresent(HealthConfiguration.self, forKey: .health) ?? .init()
        shutdown = try c.decodeIfPresent(ShutdownConfiguration.self, forKey: .shutdown) ?? .init()
        batch = try c.decodeIfPresent(BatchConfiguration.self, forKey: .batch)
    }

    /// Every model some replica serves, sorted.
    public var models: [String] { Set(replicas.flatMap(\.models)).sorted() }
}

/// Where the gateway listens.
public struct ListenConfiguration: Sendable, Codable, Equatable {
    /// The address to bind. Default `127.0.0.1`; `0.0.0.0` for every interface.
    public var host: String = "127.0.0.1"
    /// The port; 0 picks a free one. Default 8080.
    public var port: Int = 8080
    /// The listen backlog. Default 2048 (Hummingbird's 256 is small for bursts of streams).
    public var backlog: Int = 2048
    /// Seconds after which an idle client connection is closed. Default 120.
    public var idleTimeoutSeconds: Double = 120
    /// File descriptors the process's table is sized for at start-up, so that it never grows under load
    /// (on Linux each growth of a multi-threaded process's table stalls the call that needed it for an RCU
    /// grace period, ~10 ms, while new connections wait to be accepted). Nil (the default): 2 ×
    /// `admission.maxInFlight` + 1,024, capped by the soft `RLIMIT_NOFILE`; 0: off.
    public var reserveDescriptors: Int?

    /// Creates the default listen settings.
    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case host, port, backlog, idleTimeoutSeconds, reserveDescriptors
    }

    /// Decodes; missing fields take their defaults.
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        host = try c.decodeIfPresent(String.self, forKey: .host) ?? host
        port = try c.decodeIfPresent(Int.self, forKey: .port) ?? port
        backlog = try c.decodeIfPresent(Int.self, forKey: .backlog) ?? backlog
        idleTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .idleTimeoutSeconds) ?? idleTimeoutSeconds
        reserveDescriptors = try c.decodeIfPresent(Int.self, forKey: .reserveDescriptors)
    }
}

/// One inference replica: where it is, what it serves, its relative capacity and its credentials.
public struct ReplicaConfiguration: Sendable, Codable, Equatable {
    /// The replica's stable name; default `host:port` of ``url``. Gateways that name replicas alike place
    /// prefixes alike, with no coordination.
    public var id: String?
    /// The engine's base URL, `http://host:port` (a trailing `/v1` is accepted and dropped).
    public var url: String
    /// The model names it serves, as clients send them in `model`.
    public var models: [String]
    /// Relative capacity, 1...1000. Default 1.
    public var weight: Int = 1
    /// Sent upstream as `Authorization: Bearer <apiKey>` (vLLM's `--api-key`); the client's header is never
    /// forwarded.
    public var apiKey: String?

    /// Describes a replica.
    public init(id: String? = nil, url: String, models: [String], weight: Int = 1, apiKey: String? = nil) {
        self.id = id
        self.url = url
        self.models = models
        self.weight = weight
        self.apiKey = apiKey
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case id, url, models, weight, apiKey }

    /// Decodes; `url` and `models` are required.
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decodeIfPresent(String.self, forKey: .id)
        url = try c.decode(String.self, forKey: .url)
        models = try c.decode([String].self, forKey: .models)
        weight = try c.decodeIfPresent(Int.self, forKey: .weight) ?? 1
        apiKey = try c.decodeIfPresent(String.self, forKey: .apiKey)
    }
}

/// The routing strategy and its parameters.
public struct RoutingConfiguration: Sendable, Codable, Equatable {
    /// The strategy. Default ``RoutingStrategyName/estimatedTTFT``, the bench's `recommended-multi`: every
    /// gateway process sends a prefix to the same two ring replicas with no coordination, then to the one of
    /// the two with the lower estimated time to first token. Behind a single gateway process,
    /// ``RoutingStrategyName/estimatedTTFTSingle`` (the bench's `recommended`); where placements must be a
    /// pure function of the request and the fleet, ``RoutingStrategyName/prefixAffinity`` (stateless).
    public var strategy: RoutingStrategyName = .estimatedTTFT
    /// Tokens per hashed block (vLLM's default 16). Text is hashed in chunks of 4 × blockSize bytes.
    public var blockSize: Int = 16
    /// The bounded-load factor c, 1.001...100. Default 1.25.
    public var loadFactor: Double = 1.25
    /// The capacity floor of the bounded load (requests a replica may hold however idle the fleet). Default 8.
    public var minimumCapacity: Int = 8
    /// Ring points per unit of weight. Default 160.
    public var virtualNodesPerWeight: Int = 160
    /// How many leading tokens the ring key covers (`prefix-affinity`, `sticky`'s fallback, the two
    /// candidates of `estimated-ttft`). Default 2048.
    public var keyDepthTokens: Int = 2_048
    /// Blocks the prefix index of `estimated-ttft`, `estimated-ttft-single` and `cache-aware` records per
    /// replica; size it like the engines' KV caches. Default 26,000.
    public var cacheBlocksPerReplica: Int = 26_000
    /// A request header carrying a session key, used when the body has no `prompt_cache_key`. Default
    /// `x-session-id`.
    public var sessionHeader: String = "x-session-id"
    /// Placement at release: when a completion ends with status 200 and its time to first token (first byte
    /// of a stream; the whole response of a non-streamed request) was at most this many seconds, its blocks
    /// are reported to the router again (`RoutingFeedback.placement`) for the replica that served it, so
    /// that the index ages a prefix from the end of its request, as the engine's LRU does. Only with the
    /// strategies that keep an index (`estimated-ttft`, `estimated-ttft-single`, `cache-aware`); requests that
    /// queued longer are skipped (an overloaded engine evicts released blocks quickly). 0 (or null in a
    /// file): off. nil (absent, the default): the strategy's own default
    /// (``RoutingStrategyName/defaultPlacementAtReleaseSeconds``: 30 s for `estimated-ttft-single` and
    /// `cache-aware`, off for `estimated-ttft`, as in the bench's lines); the gateway uses
    /// ``resolvedPlacementAtReleaseSeconds``.
    public var placementAtReleaseSeconds: Double?

    /// The placement-at-release limit in effect: ``placementAtReleaseSeconds`` when set, else the strategy's
    /// default (``RoutingStrategyName/defaultPlacementAtReleaseSeconds``). 0: off.
    public var resolvedPlacementAtReleaseSeconds: Double {
        placementAtReleaseSeconds ?? strategy.defaultPlacementAtReleaseSeconds
    }

    /// Creates the default routing settings.
    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case strategy, blockSize, loadFactor, minimumCapacity, virtualNodesPerWeight, keyDepthTokens
        case cacheBlocksPerReplica, sessionHeader, placementAtReleaseSeconds
    }

    /// Decodes; missing fields take their defaults.
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        strategy = try c.decodeIfPresent(RoutingStrategyName.self, forKey: .strategy) ?? strategy
        blockSize = try c.decodeIfPresent(Int.self, forKey: .blockSize) ?? blockSize
        loadFactor = try c.decodeIfPresent(Double.self, forKey: .loadFactor) ?? loadFactor
        minimumCapacity = try c.decodeIfPresent(Int.self, forKey: .minimumCapacity) ?? minimumCapacity
        virtualNodesPerWeight =
            try c.decodeIfPresent(Int.self, forKey: .virtualNodesPerWeight) ?? virtualNodesPerWeight
        keyDepthTokens = try c.decodeIfPresent(Int.self, forKey: .keyDepthTokens) ?? keyDepthTokens
        cacheBlocksPerReplica =
            try c.decodeIfPresent(Int.self, forKey: .cacheBlocksPerReplica) ?? cacheBlocksPerReplica
        sessionHeader = try c.decodeIfPresent(String.self, forKey: .sessionHeader) ?? sessionHeader
        if c.contains(.placementAtReleaseSeconds) {  // null: off (absent: the strategy's default)
            placementAtReleaseSeconds =
                try c.decodeNil(forKey: .placementAtReleaseSeconds)
                ? 0 : try c.decode(Double.self, forKey: .placementAtReleaseSeconds)
        }
    }
}

/// The routing strategies a gateway can be configured with, by their configuration names.
public enum RoutingStrategyName: String, Sendable, Codable, CaseIterable {
    /// `EstimatedTTFT.recommendedMultiGateway`, the bench's `recommended-multi` (the default): the lower
    /// estimated time to first token of the prefix key's two ring replicas, engines' waiting queues raising
    /// the backlog; for one or several gateway processes. `keyDepthTokens` and `cacheBlocksPerReplica` apply;
    /// placement at release off by default.
    case estimatedTTFT = "estimated-ttft"
    /// `EstimatedTTFT.recommendedSingleGateway`, the bench's `recommended`: the least estimated time to first
    /// token over every replica, from this gateway's own backlog. For a fleet behind a single gateway process
    /// (its backlog counts only its own requests). `cacheBlocksPerReplica` applies; placement at release at
    /// 30 s by default.
    case estimatedTTFTSingle = "estimated-ttft-single"
    /// `PrefixAffinity<LeastOutstanding>`: prefix affinity on the bounded-load ring, stateless.
    case prefixAffinity = "prefix-affinity"
    /// `CacheAware<LeastOutstanding>`: an approximate per-replica prefix index, scored with load.
    case cacheAware = "cache-aware"
    /// `Sticky<PrefixAffinity<LeastOutstanding>>`: session keys on the ring, then prefix affinity.
    case sticky
    /// `LeastOutstanding`.
    case leastOutstanding = "least-outstanding"
    /// `PowerOfTwoChoices`.
    case powerOfTwo = "power-of-two"
    /// `RoundRobin`.
    case roundRobin = "round-robin"
    /// `RandomChoice`.
    case random

    /// The strategy's default `routing.placementAtReleaseSeconds`, as its bench line runs it: 30 for
    /// `estimated-ttft-single` (the bench's `recommended`) and `cache-aware`; 0 (off) for `estimated-ttft`
    /// (`recommended-multi`, where release cost 3–5% of TTFT p99: RESULTS.md, issue 10, fourth pass) and for
    /// the strategies that keep no index.
    public var defaultPlacementAtReleaseSeconds: Double {
        switch self {
        case .estimatedTTFTSingle, .cacheAware: 30
        case .estimatedTTFT, .prefixAffinity, .sticky, .leastOutstanding, .powerOfTwo, .roundRobin, .random: 0
        }
    }
}

/// Admission caps and the request size limit.
public struct AdmissionConfiguration: Sendable, Codable, Equatable {
    /// Requests in flight through the gateway at once; over it: 429. Default 4096.
    public var maxInFlight: Int = 4_096
    /// Requests in flight on one replica at once (e.g. 2 × vLLM `--max-num-seqs`); all full: 429. Default 256.
    public var perReplicaCap: Int = 256
    /// The largest request body in bytes; larger: 413. Default 8 MiB (a 128k-token prompt as JSON).
    public var maxBodyBytes: Int = 8 << 20
    /// The upper bound of the jittered `Retry-After` in seconds, 1...60. Default 8.
    public var retryAfterSeconds: Double = 8

    /// Creates the default admission settings.
    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case maxInFlight, perReplicaCap, maxBodyBytes, retryAfterSeconds
    }

    /// Decodes; missing fields take their defaults.
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxInFlight = try c.decodeIfPresent(Int.self, forKey: .maxInFlight) ?? maxInFlight
        perReplicaCap = try c.decodeIfPresent(Int.self, forKey: .perReplicaCap) ?? perReplicaCap
        maxBodyBytes = try c.decodeIfPresent(Int.self, forKey: .maxBodyBytes) ?? maxBodyBytes
        retryAfterSeconds = try c.decodeIfPresent(Double.self, forKey: .retryAfterSeconds) ?? retryAfterSeconds
    }
}

/// Upstream timeouts, retries and connection pool.
public struct UpstreamConfiguration: Sendable, Codable, Equatable {
    /// TCP connect timeout in seconds. Default 3.
    public var connectTimeoutSeconds: Double = 3
    /// The longest silence between two reads of an upstream response, in seconds; it must exceed the worst
    /// time to first token under load (queue + prefill). Default 600.
    public var readTimeoutSeconds: Double = 600
    /// For streamed requests, the longest wait for the response head (connect + pool + engine accept), in
    /// seconds. Default 60.
    public var streamHeadTimeoutSeconds: Double = 60
    /// For non-streamed requests, the longest wait for the whole response, in seconds. Default 600.
    public var requestTimeoutSeconds: Double = 600
    /// Other replicas tried after a connection failure before the first byte. Default 2.
    public var retries: Int = 2
    /// The largest non-streamed upstream response in bytes. Default 32 MiB.
    public var maxResponseBytes: Int = 32 << 20
    /// Whether a streamed request whose client did not ask for usage is sent upstream with
    /// `"stream_options":{"include_usage":true}` (a minimal edit of its JSON), so that the engine reports the
    /// prompt tokens it found cached; the final usage chunk is then removed before the client sees it.
    /// Default true. Off: such requests are forwarded byte for byte and their cached tokens are not learned.
    public var requestUsage: Bool = true

    /// Creates the default upstream settings.
    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case connectTimeoutSeconds, readTimeoutSeconds, streamHeadTimeoutSeconds, requestTimeoutSeconds, retries
        case maxResponseBytes, requestUsage
    }

    /// Decodes; missing fields take their defaults.
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        connectTimeoutSeconds =
            try c.decodeIfPresent(Double.self, forKey: .connectTimeoutSeconds) ?? connectTimeoutSeconds
        readTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .readTimeoutSeconds) ?? readTimeoutSeconds
        streamHeadTimeoutSeconds =
            try c.decodeIfPresent(Double.self, forKey: .streamHeadTimeoutSeconds) ?? streamHeadTimeoutSeconds
        requestTimeoutSeconds =
            try c.decodeIfPresent(Double.self, forKey: .requestTimeoutSeconds) ?? requestTimeoutSeconds
        retries = try c.decodeIfPresent(Int.self, forKey: .retries) ?? retries
        maxResponseBytes = try c.decodeIfPresent(Int.self, forKey: .maxResponseBytes) ?? maxResponseBytes
        requestUsage = try c.decodeIfPresent(Bool.self, forKey: .requestUsage) ?? requestUsage
    }
}

/// Client and admin keys.
public struct AuthConfiguration: Sendable, Codable, Equatable {
    /// Keys clients send as `Authorization: Bearer <key>`. Empty: the API is open (a warning at startup).
    public var apiKeys: [String] = []
    /// The key of the admin endpoints (`/admin/…`). Absent: the admin endpoints answer 403.
    public var adminKey: String?

    /// Creates auth settings.
    public init(apiKeys: [String] = [], adminKey: String? = nil) {
        self.apiKeys = apiKeys
        self.adminKey = adminKey
    }

    enum CodingKeys: String, CodingKey, CaseIterable { case apiKeys, adminKey }

    /// Decodes; missing fields take their defaults.
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        apiKeys = try c.decodeIfPresent([String].self, forKey: .apiKeys) ?? []
        adminKey = try c.decodeIfPresent(String.self, forKey: .adminKey)
    }
}

/// Active health checks, passive ejection and slow start.
public struct HealthConfiguration: Sendable, Codable, Equatable {
    /// Whether the gateway polls each replica's health endpoint. Default true.
    public var activeChecks: Bool = true
    /// The replica's health path. Default `/health` (vLLM, SGLang).
    public var path: String = "/health"
    /// Seconds between checks. Default 5.
    public var intervalSeconds: Double = 5
    /// Seconds a check may take. Default 2.
    public var timeoutSeconds: Double = 2
    /// Consecutive failed checks that mark a replica down. Default 3.
    public var unhealthyThreshold: Int = 3
    /// Consecutive passed checks that mark it up again. Default 2.
    public var healthyThreshold: Int = 2
    /// Consecutive request failures (connect errors, timeouts, 502/503/504) that eject a replica; 0 turns
    /// passive ejection off. Default 5.
    public var passiveFailureThreshold: Int = 5
    /// Seconds an ejected replica stays out before it is tried again. Default 30.
    public var ejectionSeconds: Double = 30
    /// The largest share of the fleet, in percent, that passive ejection may take out at once. Default 50.
    public var maxEjectedPercent: Int = 50
    /// Seconds over which a replica that joins or comes back ramps its cap from 1 to the per-replica cap;
    /// 0 turns slow start off. Default 30.
    public var slowStartSeconds: Double = 30

    /// Creates the default health settings.
    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case activeChecks, path, intervalSeconds, timeoutSeconds, unhealthyThreshold, healthyThreshold
        case passiveFailureThreshold, ejectionSeconds, maxEjectedPercent, slowStartSeconds
    }

    /// Decodes; missing fields take their defaults.
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        activeChecks = try c.decodeIfPresent(Bool.self, forKey: .activeChecks) ?? activeChecks
        path = try c.decodeIfPresent(String.self, forKey: .path) ?? path
        intervalSeconds = try c.decodeIfPresent(Double.self, forKey: .intervalSeconds) ?? intervalSeconds
        timeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .timeoutSeconds) ?? timeoutSeconds
        unhealthyThreshold = try c.decodeIfPresent(Int.self, forKey: .unhealthyThreshold) ?? unhealthyThreshold
        healthyThreshold = try c.decodeIfPresent(Int.self, forKey: .healthyThreshold) ?? healthyThreshold
        passiveFailureThreshold =
            try c.decodeIfPresent(Int.self, forKey: .passiveFailureThreshold) ?? passiveFailureThreshold
        ejectionSeconds = try c.decodeIfPresent(Double.self, forKey: .ejectionSeconds) ?? ejectionSeconds
        maxEjectedPercent = try c.decodeIfPresent(Int.self, forKey: .maxEjectedPercent) ?? maxEjectedPercent
        slowStartSeconds = try c.decodeIfPresent(Double.self, forKey: .slowStartSeconds) ?? slowStartSeconds
    }
}

/// Graceful shutdown.
public struct ShutdownConfiguration: Sendable, Codable, Equatable {
    /// Seconds in-flight streams may take to finish after SIGTERM before they are cancelled. Default 120.
    public var gracePeriodSeconds: Double = 120

    /// Creates the default shutdown settings.
    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable { case gracePeriodSeconds }

    /// Decodes; missing fields take their defaults.
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        gracePeriodSeconds = try c.decodeIfPresent(Double.self, forKey: .gracePeriodSeconds) ?? gracePeriodSeconds
    }
}
