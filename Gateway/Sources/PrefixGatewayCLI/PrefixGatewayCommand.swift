import ArgumentParser
import Logging
import MockEngine
import PrefixGateway

/// `prefix-gateway`: an OpenAI-compatible gateway with prefix-aware routing in front of inference replicas.
@main
struct PrefixGatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prefix-gateway",
        abstract: "An OpenAI-compatible streaming gateway with prefix-aware routing, in front of vLLM/SGLang replicas.",
        discussion: """
            Replicas come from --config FILE (JSON; reloaded on SIGHUP) and/or --replica flags; flags override \
            the file. SIGTERM or SIGINT drains in-flight streams, then exits 0.

            Examples:
              prefix-gateway --replica http://10.0.0.1:8000 --replica http://10.0.0.2:8000 --model llama
              prefix-gateway --config gateway.json
              prefix-gateway --demo
            """
    )

    @Option(help: "A JSON configuration file (see GatewayConfiguration).")
    var config: String?

    @Option(help: "The address to listen on (default 127.0.0.1).")
    var host: String?

    @Option(help: "The port to listen on; 0 picks a free one (default 8080).")
    var port: Int?

    @Option(name: .customLong("replica"), help: "A replica's base URL, e.g. http://10.0.0.1:8000 (repeatable).")
    var replicas: [String] = []

    @Option(name: .customLong("model"), help: "A model the --replica replicas serve (repeatable).")
    var models: [String] = []

    @Option(
        help: """
            The routing strategy (default estimated-ttft: for one or several gateways; estimated-ttft-single: \
            behind one gateway only): \(RoutingStrategyName.allCases.map(\.rawValue).joined(separator: ", ")).
            """
    )
    var strategy: String?

    @Option(help: "Requests in flight through the gateway at once; over it: 429.")
    var maxInFlight: Int?

    @Option(help: "Requests in flight on one replica at once; all full: 429.")
    var perReplicaCap: Int?

    @Option(help: "The largest request body in bytes; larger: 413.")
    var maxBodyBytes: Int?

    @Option(help: "Other replicas tried after a connection failure.")
    var retries: Int?

    @Option(name: .customLong("api-key"), help: "A client key (repeatable); none: the API is open.")
    var apiKeys: [String] = []

    @Option(help: "The admin endpoints' key; none: admin endpoints disabled.")
    var adminKey: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Flag(help: "Start four mock engines on loopback and the gateway in front of them; print a curl line.")
    var demo = false

    @Option(
        help: ArgumentHelp(
            "With --demo: also start a fifth mock engine, serving the model demo-faulty, that cuts every stream after this many tokens (to see the gateway's mid-stream SSE error event).",
            valueName: "tokens"
        )
    )
    var demoDieAfter: Int?

    @Flag(help: "Validate the configuration and exit.")
    var checkConfig = false

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level: expected one of trace, debug, info, notice, warning, error, critical")
        }
        var logger = Logger(label: "prefix-gateway")
        logger.logLevel = level
        if demoDieAfter != nil, !demo { throw ValidationError("--demo-die-after needs --demo") }
        if let demoDieAfter, demoDieAfter < 0 { throw ValidationError("--demo-die-after: expected 0 or more tokens") }
        if demo {
            try await DemoFleet.run(command: self, logger: logger)
            return
        }
        let configuration = try resolvedConfiguration()
        if checkConfig {
            print("configuration OK: \(configuration.replicas.count) replicas, models \(configuration.models)")
            return
        }
        let gateway = try Gateway(configuration: configuration, configurationPath: config, logger: logger)
        try await gateway.run()
    }

    /// The file's configuration (or the defaults) with the flags applied, validated.
    func resolvedConfiguration(base: GatewayConfiguration? = nil) throws -> GatewayConfiguration {
        var configuration: GatewayConfiguration
        if let base {
            configuration = base
        } else if let config {
            configuration = try GatewayConfiguration.load(contentsOf: config)
        } else {
            configuration = GatewayConfiguration()
        }
        if !replicas.isEmpty {
            guard !models.isEmpty else { throw ValidationError("--replica needs at least one --model it serves") }
            configuration.replicas = replicas.map { ReplicaConfiguration(url: $0, models: models) }
        }
        if let host { configuration.listen.host = host }
        if let port { configuration.listen.port = port }
        if let strategy {
            guard let name = RoutingStrategyName(rawValue: strategy) else {
                throw ValidationError(
                    "--strategy: expected one of \(RoutingStrategyName.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            configuration.routing.strategy = name
        }
        if let maxInFlight { configuration.admission.maxInFlight = maxInFlight }
        if let perReplicaCap { configuration.admission.perReplicaCap = perReplicaCap }
        if let maxBodyBytes { configuration.admission.maxBodyBytes = maxBodyBytes }
        if let retries { configuration.upstream.retries = retries }
        if !apiKeys.isEmpty { configuration.auth.apiKeys = apiKeys }
        if let adminKey { configuration.auth.adminKey = adminKey }
        try configuration.validate(source: config.map { "\($0) + flags" } ?? "flags")
        return configuration
    }
}
