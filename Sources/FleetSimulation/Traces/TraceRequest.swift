public import PrefixRouter

/// One request of a trace or workload, as the simulator replays it.
public struct TraceRequest: Hashable, Sendable {
    /// Arrival time in seconds since the start of the trace (before any speed-up).
    public var arrival: Double
    /// Prompt length in tokens (or estimated tokens).
    public var inputTokens: Int
    /// Generated tokens.
    public var outputTokens: Int
    /// Chained prefix-block hashes in prompt order; empty when the trace carries no prefix information.
    public var blockHashes: [BlockHash]
    /// Tokens per block of ``blockHashes`` (and of the simulated KV cache).
    public var blockSize: Int
    /// A session or conversation key, if the trace has one.
    public var sessionKey: String?

    /// Describes a request.
    public init(
        arrival: Double,
        inputTokens: Int,
        outputTokens: Int,
        blockHashes: [BlockHash],
        blockSize: Int,
        sessionKey: String? = nil
    ) {
        self.arrival = arrival
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.blockHashes = blockHashes
        self.blockSize = blockSize
        self.sessionKey = sessionKey
    }

    /// What a gateway sees of this request: hashes, block size, token count and session.
    public var routingRequest: RoutingRequest {
        RoutingRequest(blockHashes: blockHashes, blockSize: blockSize, tokenCount: inputTokens, sessionKey: sessionKey)
    }
}

/// A whole trace: requests sorted by arrival, plus what is known about where they came from.
public struct Trace: Sendable {
    /// The requests, sorted by arrival (stable: file order among equal times).
    public var requests: [TraceRequest]
    /// The format the requests were read from.
    public var format: TraceFormat
    /// A label for the source: the file path, or `synthetic`.
    public var source: String
    /// Whether requests carry prefix hashes. Load-only traces (Azure CSV) do not: every strategy then sees
    /// an empty prefix and no request can hit the cache.
    public var hasPrefixInfo: Bool
    /// Lines skipped with `--skip-invalid`, with the first few errors.
    public var skipped: SkippedLines

    /// Creates a trace; sorts `requests` by arrival (stable).
    public init(
        requests: [TraceRequest],
        format: TraceFormat,
        source: String,
        hasPrefixInfo: Bool,
        skipped: SkippedLines = SkippedLines()
    ) {
        self.requests = requests.enumerated()
            .sorted {
                $0.element.arrival != $1.element.arrival
                    ? $0.element.arrival < $1.element.arrival : $0.offset < $1.offset
            }
            .map(\.element)
        self.format = format
        self.source = source
        self.hasPrefixInfo = hasPrefixInfo
        self.skipped = skipped
    }
}

/// Lines a reader skipped because they were invalid (only with `--skip-invalid`).
public struct SkippedLines: Hashable, Sendable {
    /// How many lines were skipped.
    public var count = 0
    /// The first few errors, for the report.
    public var examples: [String] = []

    /// No lines skipped.
    public init() {}

    mutating func record(_ error: TraceError) {
        count += 1
        if examples.count < 5 { examples.append(error.description) }
    }
}
