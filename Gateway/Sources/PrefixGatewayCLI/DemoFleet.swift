import Logging
import MockEngine
import PrefixGateway

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `--demo`: four mock engines on loopback and the gateway in front of them, until Ctrl-C; with
/// `--demo-die-after N`, a fifth engine serving `demo-faulty` that cuts every stream after N tokens.
enum DemoFleet {
    static let model = "demo-model"
    /// The model of the optional faulty engine (`--demo-die-after N`): its streams are cut after N tokens.
    static let faultyModel = "demo-faulty"

    static func run(command: PrefixGatewayCommand, logger: Logger) async throws {
        var engineLogger = logger
        engineLogger.logLevel = .warning
        var engines: [MockEngine] = []
        var base = GatewayConfiguration()
        do {
            for _ in 0..<4 {
                let engine = MockEngine(
                    configuration: MockEngineConfiguration(
                        models: [model],
                        decodeTokensPerSecond: 50,
                        maxRunning: 64,
                        defaultMaxTokens: 32
                    ),
                    logger: engineLogger
                )
                let port = try await engine.start()
                engines.append(engine)
                base.replicas.append(ReplicaConfiguration(url: "http://127.0.0.1:\(port)", models: [model]))
            }
            if let dieAfter = command.demoDieAfter {
                let engine = MockEngine(
                    configuration: MockEngineConfiguration(
                        models: [faultyModel],
                        decodeTokensPerSecond: 50,
                        defaultMaxTokens: 32,
                        faults: MockEngineFaults(dieAfterTokens: dieAfter)
                    ),
                    logger: engineLogger
                )
                let port = try await engine.start()
                engines.append(engine)
                base.replicas.append(ReplicaConfiguration(url: "http://127.0.0.1:\(port)", models: [faultyModel]))
            }
            base.admission.maxInFlight = 512
            base.admission.perReplicaCap = 64
            base.auth.adminKey = "demo-admin-key"
            let configuration = try command.resolvedConfiguration(base: base)
            let gateway = try Gateway(configuration: configuration, logger: logger)
            let admin = configuration.auth.adminKey ?? ""
            let engineURLs = base.replicas.map(\.url).joined(separator: ", ")
            let fleet =
                "\(engines.count) mock engines (\(engineURLs))"
                + (command.demoDieAfter.map { "; model \(faultyModel) (the last) cuts every stream after \($0) tokens" }
                    ?? "")
            try await gateway.run { port in
                let url = "http://\(configuration.listen.host):\(port)"
                let auth = configuration.auth.apiKeys.first.map { " -H 'Authorization: Bearer \($0)'" } ?? ""
                print(
                    """

                    prefix-gateway demo: \(fleet), gateway on \(url)

                      curl -N \(url)/v1/chat/completions -H 'Content-Type: application/json'\(auth) \\
                        -d '{"model": "\(model)", "stream": true, "messages": [{"role": "user", "content": "Hello!"}]}'

                      curl \(url)/admin/fleet -H 'Authorization: Bearer \(admin)'     # fleet view
                      curl \(url)/metrics                                                # Prometheus

                    Ctrl-C stops it.
                    """
                )
                fflush(nil)  // stdout is a pipe under scripts and CI: flush the banner now
            }
        } catch {
            for engine in engines { await engine.stop() }
            throw error
        }
        for engine in engines { await engine.stop() }
    }
}
