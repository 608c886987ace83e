/// The Batch API (`/v1/files`, `/v1/batches`) and its durable queue. Absent from the configuration: the
/// Batch API is off.
///
/// ```json
/// "batch": {
///   "store": "sqlite", "sqlitePath": "/var/lib/prefix-gateway/batch.sqlite",
///   "reservedShare": 0.25, "pauseAboveInteractiveShare": 0.5, "priority": 10,
///   "webhook": { "url": "https://hooks.example.com/batch", "secret": "whsec_…" }
/// }
/// ```
public struct BatchConfiguration: Sendable, Codable, Equatable {
    /// Where the queue lives.
    public enum Store: String, Sendable, Codable, Equatable {
        /// A SQLite file (WAL mode): one gateway process, no server. The default.
        case sqlite
        /// A PostgreSQL database: several gateway processes draining one queue.
        case postgres
    }

    /// The backend. Default ``Store/sqlite``.
    public var store: Store = .sqlite
    /// The SQLite file (created if missing). Default `prefix-gateway-batch.sqlite` in the working directory.
    public var sqlitePath: String = "prefix-gateway-batch.sqlite"
    /// `postgres://user:password@host:port/database` when `store` is `postgres`.
    public var postgresURL: String?
    /// The largest uploaded file in bytes; larger: 413. Default 200 MiB (OpenAI's limit).
    public var maxFileBytes: Int = 200 << 20
    /// The most lines one batch may have. Default 50,000 (OpenAI's limit).
    public var maxRequestsPerBatch: Int = 50_000
    /// The `completion_window` values accepted (`24h`, or `90m`, `30s`: a number and h, m or s). Default
    /// `["24h"]`.
    public var completionWindows: [String] = ["24h"]
    /// The share of the admission cap (`admission.maxInFlight`) and of each replica's cap that batch work
    /// never takes: it stays free for interactive requests. 0...0.95, default 0.25.
    public var reservedShare: Double = 0.25
    /// Batch dispatch pauses while interactive requests in flight exceed this share of the admission cap.
    /// 0...1, default 0.5.
    public var pauseAboveInteractiveShare: Double = 0.5
    /// vLLM's `priority` set on batch requests (lower runs first; interactive requests default to 0), unless
    /// a line sets its own. Default 10.
    public var priority: Int = 10
    /// Attempts per item (the first included) on 429, 5xx and connection failures; then an error line.
    /// Default 4.
    public var maxAttempts: Int = 4
    /// The retry backoff's base in seconds (attempt n waits up to base × 2^(n−1), full jitter). Default 1.
    public var retryBaseSeconds: Double = 1
    /// The retry backoff's cap in seconds. Default 60.
    public var retryMaxSeconds: Double = 60
    /// A claim's visibility timeout in seconds: the worker extends it every third of it while the item
    /// runs; when it lapses (the worker died) the item returns to the queue. Default 60.
    public var leaseSeconds: Double = 60
    /// Seconds between polls of an idle queue (new work, expiries, finalizing). Default 0.25.
    public var pollSeconds: Double = 0.25
    /// The most items one gateway process runs at once, whatever the spare capacity. Default 256.
    public var maxConcurrentItems: Int = 256
    /// A webhook for batch events, or nil.
    public var webhook: BatchWebhookConfiguration?

    /// The defaults.
    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case store, sqlitePath, postgresURL, maxFileBytes, maxRequestsPerBatch, completionWindows, reservedShare
        case pauseAboveInteractiveShare, priority, maxAttempts, retryBaseSeconds, retryMaxSeconds, leaseSeconds
        case pollSeconds, maxConcurrentItems, webhook
    }

    /// Decodes; missing fields take their defaults, unknown ones are an error.
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        store = try c.decodeIfPresent(Store.self, forKey: .store) ?? store
        sqlitePath = try c.decodeIfPresent(String.self, forKey: .sqlitePath) ?? sqlitePath
        postgresURL = try c.decodeIfPresent(String.self, forKey: .postgresURL)
        maxFileBytes = try c.decodeIfPresent(Int.self, forKey: .maxFileBytes) ?? maxFileBytes
        maxRequestsPerBatch = try c.decodeIfPresent(Int.self, forKey: .maxRequestsPerBatch) ?? maxRequestsPerBatch
        completionWindows = try c.decodeIfPresent([String].self, forKey: .completionWindows) ?? completionWindows
        reservedShare = try c.decodeIfPresent(Double.self, forKey: .reservedShare) ?? reservedShare
        pauseAboveInteractiveShare =
            try c.decodeIfPresent(Double.self, forKey: .pauseAboveInteractiveShare) ?? pauseAboveInteractiveShare
        priority = try c.decodeIfPresent(Int.self, forKey: .priority) ?? priority
        maxAttempts = try c.decodeIfPresent(Int.self, forKey: .maxAttempts) ?? maxAttempts
        retryBaseSeconds = try c.decodeIfPresent(Double.self, forKey: .retryBaseSeconds) ?? retryBaseSeconds
        retryMaxSeconds = try c.decodeIfPresent(Double.self, forKey: .retryMaxSeconds) ?? retryMaxSeconds
        leaseSeconds = try c.decodeIfPresent(Double.self, forKey: .leaseSeconds) ?? leaseSeconds
        pollSeconds = try c.decodeIfPresent(Double.self, forKey: .pollSeconds) ?? pollSeconds
        maxConcurrentItems = try c.decodeIfPresent(Int.self, forKey: .maxConcurrentItems) ?? maxConcurrentItems
        webhook = try c.decodeIfPresent(BatchWebhookConfiguration.self, forKey: .webhook)
    }

    /// The retry policy these settings describe.
    var retryPolicy: BatchRetryPolicy {
        BatchRetryPolicy(
            maxAttempts: maxAttempts,
            baseMillis: Int64(retryBaseSeconds * 1_000),
            capMillis: Int64(retryMaxSeconds * 1_000)
        )
    }

    /// Checks every range; throws naming the field (`batch.reservedShare`).
    func validate(source: String) throws(GatewayConfigurationError) {
        func require(_ condition: Bool, _ field: String, _ message: String) throws(GatewayConfigurationError) {
            if !condition { throw GatewayConfigurationError(source: source, field: "batch.\(field)", message) }
        }
        switch store {
        case .sqlite: try require(!sqlitePath.isEmpty, "sqlitePath", "expected a file path")
        case .postgres:
            try require(postgresURL?.isEmpty == false, "postgresURL", "expected postgres://user@host:port/database")
        }
        try require(maxFileBytes >= 1_024, "maxFileBytes", "expected at least 1024, found \(maxFileBytes)")
        try require(maxRequestsPerBatch >= 1, "maxRequestsPerBatch", "expected at least 1")
        try require(!completionWindows.isEmpty, "completionWindows", "expected at least one window")
        for (index, window) in completionWindows.enumerated() {
            try require(
                BatchWindow.milliseconds(window) != nil,
                "completionWindows[\(index)]",
                "expected a number and h, m or s (24h), found \(window)"
            )
        }
        try require((0...0.95).contains(reservedShare), "reservedShare", "expected 0...0.95, found \(reservedShare)")
        try require(
            (0...1).contains(pauseAboveInteractiveShare),
            "pauseAboveInteractiveShare",
            "expected 0...1, found \(pauseAboveInteractiveShare)"
        )
        try require(maxAttempts >= 1 && maxAttempts <= 100, "maxAttempts", "expected 1...100, found \(maxAttempts)")
        try require(retryBaseSeconds > 0, "retryBaseSeconds", "expected a positive number")
        try require(retryMaxSeconds >= retryBaseSeconds, "retryMaxSeconds", "expected at least retryBaseSeconds")
        try require(leaseSeconds >= 0.5, "leaseSeconds", "expected at least 0.5")
        try require(pollSeconds > 0 && pollSeconds <= 60, "pollSeconds", "expected (0, 60]")
        try require(maxConcurrentItems >= 1, "maxConcurrentItems", "expected at least 1")
        if let webhook { try webhook.validate(source: source) }
    }
}

/// Where batch events are POSTed (Standard Webhooks signatures), and which private hosts may be named.
public struct BatchWebhookConfiguration: Sendable, Codable, Equatable {
    /// The receiver's URL (`http` or `https`).
    public var url: String
    /// The signing secret, `whsec_<base64>` (Standard Webhooks) or any other text (used as is).
    public var secret: String
    /// Host names (or `host:port`) allowed to resolve to loopback or private addresses; every other URL that
    /// does is refused (SSRF). Default none.
    public var allowPrivateHosts: [String] = []
    /// How long a delivery is retried, with backoff, before it is abandoned, in hours. Default 72.
    public var retryForHours: Double = 72
    /// Seconds a delivery may take. Default 10.
    public var timeoutSeconds: Double = 10

    /// A webhook.
    public init(url: String, secret: String, allowPrivateHosts: [String] = []) {
        self.url = url
        self.secret = secret
        self.allowPrivateHosts = allowPrivateHosts
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url, secret, allowPrivateHosts, retryForHours, timeoutSeconds
    }

    /// Decodes; `url` and `secret` are required.
    public init(from decoder: any Decoder) throws {
        try decoder.rejectUnknownKeys(CodingKeys.self)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        url = try c.decode(String.self, forKey: .url)
        secret = try c.decode(String.self, forKey: .secret)
        allowPrivateHosts = try c.decodeIfPresent([String].self, forKey: .allowPrivateHosts) ?? []
        retryForHours = try c.decodeIfPresent(Double.self, forKey: .retryForHours) ?? retryForHours
        timeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .timeoutSeconds) ?? timeoutSeconds
    }

    func validate(source: String) throws(GatewayConfigurationError) {
        func require(_ condition: Bool, _ field: String, _ message: String) throws(GatewayConfigurationError) {
            if !condition {
                throw GatewayConfigurationError(source: source, field: "batch.webhook.\(field)", message)
            }
        }
        let lower = url.lowercased()
        try require(lower.hasPrefix("http://") || lower.hasPrefix("https://"), "url", "expected an http(s) URL")
        try require(!secret.isEmpty, "secret", "expected a signing secret")
        try require(retryForHours > 0, "retryForHours", "expected a positive number")
        try require(timeoutSeconds > 0, "timeoutSeconds", "expected a positive number")
    }
}

/// `completion_window` values: a number and a unit (`24h`, `90m`, `30s`).
enum BatchWindow {
    /// The window in milliseconds, or nil when it does not parse.
    static func milliseconds(_ text: String) -> Int64? {
        guard let unit = text.last, let number = Int64(text.dropLast()), number > 0, number < 1_000_000 else {
            return nil
        }
        switch unit {
        case "h": return number * 3_600_000
        case "m": return number * 60_000
        case "s": return number * 1_000
        default: return nil
        }
    }
}
