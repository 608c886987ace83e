import AsyncHTTPClient
import Foundation
import Logging
import MockEngine
import NIOCore
import NIOHTTP1
import PrefixRouter
import ProcessLimits
import Testing

@testable import PrefixGateway

/// Two gateways configured alike (replicas listed in different orders) place conversations alike, with no
/// coordination: the ring and the hashes depend on replica ids and prompt bytes only.
@Suite("Agreement")
struct AgreementTests {
    @Test("two gateways agree on the owners of 1,000 conversations below the bound")
    func twoGatewaysAgree() throws {
        let urls = (0..<5).map { "http://10.0.0.\($0 + 1):8000" }
        func gateway(_ order: [String]) throws -> Gateway {
            var configuration = GatewayConfiguration()
            configuration.routing.strategy = .prefixAffinity  // the stateless ring (the default breaks ties at random)
            configuration.replicas = order.map { ReplicaConfiguration(url: $0, models: ["m"]) }
            var logger = Logger(label: "agreement")
            logger.logLevel = .error
            return try Gateway(configuration: configuration, logger: logger)
        }
        let first = try gateway(urls)
        let second = try gateway(urls.reversed())
        var owners: [ReplicaID: Int] = [:]
        for conversation in 0..<1_000 {
            let system = "Conversation \(conversation). " + String(repeating: "A shared system prompt. ", count: 80)
            let body =
                #"{"model":"m","messages":[{"role":"system","content":\#(jsonString(system))},{"role":"user","content":"conversation \#(conversation)"}]}"#
            let request = try CompletionRequest.decode(Array(body.utf8), endpoint: .chatCompletions)
            let a = try #require(first.core.runtime.keys.routingRequest(for: request, sessionKey: nil))
            let b = try #require(second.core.runtime.keys.routingRequest(for: request, sessionKey: nil))
            let da = try #require(first.core.router.route(a))
            let db = try #require(second.core.router.route(b))
            #expect(da.replica == db.replica, "conversation \(conversation)")
            #expect(da.reason == .affinity && db.reason == .affinity)
            owners[da.replica, default: 0] += 1
            da.lease.release()
            db.lease.release()
        }
        #expect(owners.count == 5, "every replica owns some conversations: \(owners)")
    }
}

/// The `prefix-gateway` executable: a config file, SIGHUP reload, SIGTERM drain and exit 0.
@Suite("Process", .serialized)
struct ProcessTests {
    /// The built executable, beside the test bundle.
    private var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
            "prefix-gateway"
        )
    }

    /// Starts the executable on a configuration file, its output discarded.
    private func launch(config file: URL) throws -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = ["--config", file.path, "--log-level", "warning"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    #if os(Linux)
    /// The descriptor table size (`FDSize` in `/proc/<pid>/status`) of a process.
    static func tableSize(of pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("FDSize:") {
            return Int(line.dropFirst("FDSize:".count).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    @Test("the process sizes its descriptor table from listen.reserveDescriptors before it listens; 0 leaves it")
    func descriptorTable() async throws {
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            Issue.record("build prefix-gateway first (swift build --product prefix-gateway): \(executable.path)")
            return
        }
        let softLimit = try #require(DescriptorTable.softLimit)
        try #require(softLimit >= 4_096, "ulimit -n \(softLimit) leaves no room to show the reservation")
        let engine = MockEngine(configuration: MockEngineConfiguration(models: ["m"]))
        let enginePort = try await engine.start()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
        /// Starts the gateway with `reserve`, waits until it answers /health, returns its table size.
        func tableSize(reserve: Int) async throws -> Int? {
            let port = try await deadPort()
            let file = directory.appendingPathComponent("gateway-\(reserve).json")
            let replica = #"{"url": "http://127.0.0.1:\#(enginePort)", "models": ["m"]}"#
            let json =
                #"{"listen": {"port": \#(port), "reserveDescriptors": \#(reserve)}, "replicas": [\#(replica)], "#
                + #""health": {"activeChecks": false}}"#
            try json.write(to: file, atomically: true, encoding: .utf8)
            let process = try launch(config: file)
            defer { if process.isRunning { process.terminate() } }
            var listening = false
            for _ in 0..<200 where !listening {
                let response = try? await client.execute(
                    HTTPClientRequest(url: "http://127.0.0.1:\(port)/health"),
                    timeout: .seconds(2)
                )
                listening = response?.status == .ok
                if !listening { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(listening)
            return Self.tableSize(of: process.processIdentifier)
        }
        do {
            let reserved = try #require(try await tableSize(reserve: 4_096))
            #expect(reserved >= 4_096, "FDSize \(reserved) after reserving 4,096")
            let unreserved = try #require(try await tableSize(reserve: 0))
            #expect(unreserved < 4_096, "FDSize \(unreserved) with the reservation off")
        } catch {
            Issue.record(error)
        }
        try? await client.shutdown()
        await engine.stop()
        try? FileManager.default.removeItem(at: directory)
    }
    #endif

    @Test("SIGHUP reloads the replicas from the file; SIGTERM lets a stream finish and exits 0")
    func signals() async throws {
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            Issue.record("build prefix-gateway first (swift build --product prefix-gateway): \(executable.path)")
            return
        }
        let engineA = MockEngine(configuration: MockEngineConfiguration(models: ["m"], decodeTokensPerSecond: 100))
        let engineB = MockEngine(configuration: MockEngineConfiguration(models: ["m"]))
        let portA = try await engineA.start()
        let portB = try await engineB.start()
        let gatewayPort = try await deadPort()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gateway-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let file = directory.appendingPathComponent("gateway.json")
        func write(_ ports: [Int]) throws {
            let replicas = ports.map { #"{"url": "http://127.0.0.1:\#($0)", "models": ["m"]}"# }.joined(separator: ",")
            let json =
                #"{"listen": {"port": \#(gatewayPort)}, "replicas": [\#(replicas)], "auth": {"adminKey": "k"}, "health": {"activeChecks": false}}"#
            try json.write(to: file, atomically: true, encoding: .utf8)
        }
        try write([portA])
        let process = try launch(config: file)
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        do {
            let base = "http://127.0.0.1:\(gatewayPort)"
            func fleet() async throws -> String {
                var request = HTTPClientRequest(url: base + "/admin/fleet")
                request.headers.add(name: "authorization", value: "Bearer k")
                let response = try await client.execute(request, timeout: .seconds(5))
                return String(buffer: try await response.body.collect(upTo: 1 << 20))
            }
            var listening = false
            for _ in 0..<200 where !listening {
                listening = (try? await fleet()) != nil
                if !listening { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(listening)
            #expect(try await fleet().contains("127.0.0.1:\(portA)"))

            try write([portA, portB])
            kill(process.processIdentifier, SIGHUP)
            var reloaded = false
            for _ in 0..<200 where !reloaded {
                reloaded = try await fleet().contains("127.0.0.1:\(portB)")
                if !reloaded { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(reloaded, "SIGHUP added the second replica")

            // A stream of 50 tokens at 100/s is in flight when SIGTERM arrives: it finishes, then the process
            // exits 0.
            var request = HTTPClientRequest(url: base + "/v1/completions")
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: #"{"model":"m","prompt":"count","max_tokens":50,"stream":true}"#))
            let response = try await client.execute(request, timeout: .seconds(10))
            kill(process.processIdentifier, SIGTERM)
            let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
            #expect(body.hasSuffix("data: [DONE]\n\n"))
            for _ in 0..<300 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
            #expect(!process.isRunning)
            if !process.isRunning {
                #expect(process.terminationStatus == 0)
                #expect(process.terminationReason == .exit)
            }
        } catch {
            Issue.record(error)
        }
        if process.isRunning { process.terminate() }
        try? await client.shutdown()
        await engineA.stop()
        await engineB.stop()
        try? FileManager.default.removeItem(at: directory)
    }
}
