import ArgumentParser
import Logging
import MockEngine
import ProcessLimits
import ServiceLifecycle
import UnixSignals

/// `mock-engine`: an OpenAI-compatible mock of a vLLM replica, until SIGTERM or SIGINT.
@main
struct MockEngineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mock-engine",
        abstract:
            "An OpenAI-compatible mock of a vLLM replica: prefix cache, prefill queue, decode, vLLM metrics, faults.",
        discussion: """
            Serves POST /v1/chat/completions, POST /v1/completions, GET /v1/models, GET /health and GET /metrics.
            Prints "mock-engine listening on http://HOST:PORT" once it listens; stops gracefully on SIGTERM/SIGINT.
            """
    )

    private static let defaults = MockEngineConfiguration()

    @Option(help: "Address to bind.")
    var host = defaults.host

    @Option(help: "Port to bind; 0 picks a free one (printed at start).")
    var port = 8000

    @Option(name: .customLong("model"), help: "A model name to serve (repeatable; the first labels the metrics).")
    var models: [String] = []

    @Option(help: "Prefix-cache block size, in UTF-8 bytes of the prompt (4 bytes = 1 token).")
    var prefixBlockCharacters = defaults.prefixBlockCharacters

    @Option(help: "Prefix-cache (and KV-cache) capacity, in blocks.")
    var cacheBlocks = defaults.cacheBlocks

    @Option(help: "Prefill speed, uncached prompt tokens per second (one shared queue).")
    var prefillTokensPerSecond = defaults.prefillTokensPerSecond

    @Option(help: "Fixed cost of each prefill, in milliseconds.")
    var prefillOverheadMs = 1.0

    @Option(help: "Decode speed of each running sequence, tokens per second.")
    var decodeTokensPerSecond = defaults.decodeTokensPerSecond

    @Option(help: "Most sequences running at once; the rest wait (vLLM's --max-num-seqs).")
    var maxRunning = defaults.maxRunning

    @Option(help: "Tokens generated when a request sets no max_tokens.")
    var defaultMaxTokens = defaults.defaultMaxTokens

    @Option(help: "Seconds in-flight responses get to finish on shutdown.")
    var shutdownGraceSeconds = 10.0

    @Option(help: "Latest requests kept for inspection.")
    var requestHistory = defaults.requestHistory

    @Option(help: "Largest request body accepted, in bytes.")
    var maxBodyBytes = defaults.maxBodyBytes

    @Flag(help: "Fault: close every connection as soon as it is accepted.")
    var refuseConnections = false

    @Option(help: "Fault: cut the connection after streaming this many tokens.")
    var dieAfterTokens: Int?

    @Option(help: "Fault: stop sending after this many tokens, keeping the connection open.")
    var stallAfterTokens: Int?

    @Option(help: "Fault: answer every inference request with this status (400-599).")
    var failStatus: Int?

    @Flag(help: "Start with /health answering 503.")
    var unhealthy = false

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    mutating func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        guard prefillOverheadMs >= 0, prefillOverheadMs.isFinite else {
            throw ValidationError("--prefill-overhead-ms must not be negative")
        }
        guard shutdownGraceSeconds >= 0, shutdownGraceSeconds.isFinite else {
            throw ValidationError("--shutdown-grace-seconds must not be negative")
        }
        do {
            try engineConfiguration.validate()
        } catch {
            throw ValidationError("\(error)")
        }
    }

    private var engineConfiguration: MockEngineConfiguration {
        MockEngineConfiguration(
            host: host,
            port: port,
            models: models.isEmpty ? Self.defaults.models : models,
            prefixBlockCharacters: prefixBlockCharacters,
            cacheBlocks: cacheBlocks,
            prefillTokensPerSecond: prefillTokensPerSecond,
            prefillOverhead: .milliseconds(prefillOverheadMs),
            decodeTokensPerSecond: decodeTokensPerSecond,
            maxRunning: maxRunning,
            defaultMaxTokens: defaultMaxTokens,
            faults: MockEngineFaults(
                refuseConnections: refuseConnections,
                dieAfterTokens: dieAfterTokens,
                stallAfterTokens: stallAfterTokens,
                failStatus: failStatus
            ),
            shutdownGracePeriod: .milliseconds(shutdownGraceSeconds * 1_000),
            requestHistory: requestHistory,
            maxBodyBytes: maxBodyBytes
        )
    }

    func run() async throws {
        var logger = Logger(label: "mock-engine")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        // One descriptor per running stream, plus room for idle connections: sized before the first accept,
        // so that growing the table never stalls an event loop (see ProcessLimits.DescriptorTable).
        DescriptorTable.prepare(for: maxRunning + 1_024)
        let engine = MockEngine(configuration: engineConfiguration, logger: logger)
        engine.setHealthy(!unhealthy)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [EngineService(engine: engine)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
    }
}
