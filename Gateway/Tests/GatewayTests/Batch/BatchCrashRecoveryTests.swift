import AsyncHTTPClient
import Foundation
import Logging
import MockEngine
import NIOCore
import NIOHTTP1
import Testing

@testable import PrefixGateway

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `prefix-gateway` processes killed with SIGKILL mid-batch and while finalizing: after a restart the batch
/// completes with exactly one result line per custom_id (none lost, none doubled), some items show a
/// second attempt, and (SQLite) `PRAGMA integrity_check` is `ok` after each kill. With PostgreSQL, two
/// processes drain one queue and one is killed mid-batch.
@Suite("BatchCrashRecovery", .serialized)
struct BatchCrashRecoveryTests {
    static let items = 2_000

    /// The built executable, beside the test bundle.
    var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
            "prefix-gateway"
        )
    }

    /// Gateway processes started by the test; every one is killed by pid at the end, also on failure.
    final class Processes: @unchecked Sendable {
        private var started: [Process] = []
        private let lock = NSLock()

        func start(_ executable: URL, config: URL, log: URL) throws -> Process {
            let process = Process()
            process.executableURL = executable
            process.arguments = ["--config", config.path, "--log-level", "warning"]
            var environment = ProcessInfo.processInfo.environment
            environment["PREFIXGATEWAY_BATCH_FINALIZE_DELAY_MS"] = "1500"
            process.environment = environment
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            lock.withLock { started.append(process) }
            return process
        }

        /// SIGKILL, and waits for the process to be gone.
        func kill9(_ process: Process) async {
            guard process.isRunning else { return }
            kill(process.processIdentifier, SIGKILL)
            for _ in 0..<200 where process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
        }

        func stopAll() async {
            for process in lock.withLock({ started }) where process.isRunning {
                kill(process.processIdentifier, SIGTERM)
                for _ in 0..<100 where process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
                await kill9(process)
            }
        }
    }

    @Test("kill -9 mid-batch and while finalizing; restart; one line per custom_id", arguments: QueueBackend.configured)
    func killAndRestart(backend: QueueBackend) async throws {
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            Issue.record("build prefix-gateway first (swift build --build-tests builds it): \(executable.path)")
            return
        }
        var engines: [MockEngine] = []
        var enginePorts: [Int] = []
        let processes = Processes()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "batch-crash-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var clientConfiguration = HTTPClient.Configuration()
        clientConfiguration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: clientConfiguration)
        do {
            for _ in 0..<2 {
                let engine = MockEngine(
                    configuration: MockEngineConfiguration(
                        models: [testModel],
                        decodeTokensPerSecond: 200,
                        maxRunning: 32
                    )
                )
                enginePorts.append(try await engine.start())
                engines.append(engine)
            }
            let settings = testBatchSettings(backend)
            var ports: [Int] = []
            var configs: [URL] = []
            for index in 0..<2 {
                let port = try await deadPort()
                ports.append(port)
                configs.append(
                    try writeConfig(directory, index: index, port: port, engines: enginePorts, settings: settings)
                )
            }
            try await run(
                backend: backend,
                settings: settings,
                ports: ports,
                configs: configs,
                processes: processes,
                directory: directory,
                client: client
            )
        } catch {
            Issue.record(error)
        }
        await processes.stopAll()
        try? await client.shutdown()
        for engine in engines { await engine.stop() }
        try? FileManager.default.removeItem(at: directory)
    }

    private func writeConfig(
        _ directory: URL,
        index: Int,
        port: Int,
        engines: [Int],
        settings: BatchConfiguration
    ) throws -> URL {
        var configuration = GatewayConfiguration()
        configuration.listen.port = port
        configuration.replicas = engines.map {
            ReplicaConfiguration(url: "http://127.0.0.1:\($0)", models: [testModel])
        }
        configuration.health.activeChecks = false
        configuration.admission.perReplicaCap = 16
        configuration.shutdown.gracePeriodSeconds = 2
        var batch = settings
        batch.leaseSeconds = 1.5
        batch.pollSeconds = 0.05
        configuration.batch = batch
        let encoder = JSONEncoder()
        let file = directory.appendingPathComponent("gateway-\(index).json")
        try encoder.encode(configuration).write(to: file)
        return file
    }

    private func run(
        backend: QueueBackend,
        settings: BatchConfiguration,
        ports: [Int],
        configs: [URL],
        processes: Processes,
        directory: URL,
        client: HTTPClient
    ) async throws {
        func call(
            _ port: Int,
            _ method: HTTPMethod,
            _ path: String,
            body: ByteBuffer? = nil,
            contentType: String? = nil
        )
            async throws -> (Int, String)
        {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
            request.method = method
            if let contentType { request.headers.add(name: "content-type", value: contentType) }
            if let body { request.body = .bytes(body) }
            let response = try await client.execute(request, timeout: .seconds(30))
            return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 64 << 20)))
        }
        func waitListening(_ port: Int, _ process: Process) async throws {
            for _ in 0..<400 {
                if (try? await call(port, .GET, "/health"))?.0 == 200 { return }
                guard process.isRunning else { throw BatchStoreError("gateway exited at start (see its log)") }
                try await Task.sleep(for: .milliseconds(25))
            }
            throw BatchStoreError("gateway on port \(port) did not listen")
        }
        func object(_ text: String) -> [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
        }
        func batchState(_ port: Int, _ id: String) async throws -> [String: Any] {
            object(try await call(port, .GET, "/v1/batches/\(id)").1)
        }
        func checkIntegrity() async throws {
            guard backend == .sqlite else { return }
            let driver = try SQLiteDriver(path: settings.sqlitePath)
            #expect(try await driver.integrityCheck() == "ok")
            await driver.close()
        }

        var first = try processes.start(executable, config: configs[0], log: directory.appendingPathComponent("a.log"))
        try await waitListening(ports[0], first)
        var second: Process?
        if backend == .postgres {  // two processes drain one queue
            let process = try processes.start(
                executable,
                config: configs[1],
                log: directory.appendingPathComponent("b.log")
            )
            try await waitListening(ports[1], process)
            second = process
        }

        let boundary = "crash-test-boundary"
        let input = batchInput(Self.items, maxTokens: 20)
        var form = "--\(boundary)\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
        form +=
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n\r\n\(input)\r\n--\(boundary)--\r\n"
        let uploaded = try await call(
            ports[0],
            .POST,
            "/v1/files",
            body: ByteBuffer(string: form),
            contentType: "multipart/form-data; boundary=\(boundary)"
        )
        #expect(uploaded.0 == 200, "\(uploaded.1)")
        let fileID = object(uploaded.1)["id"] as? String ?? ""
        let created = object(
            try await call(
                ports[0],
                .POST,
                "/v1/batches",
                body: ByteBuffer(
                    string:
                        #"{"input_file_id":"\#(fileID)","endpoint":"/v1/chat/completions","completion_window":"24h"}"#
                ),
                contentType: "application/json"
            ).1
        )
        let id = try #require(created["id"] as? String)

        // Kill the first process while items are running.
        var completed = 0
        for _ in 0..<2_000 where completed < Self.items / 5 {
            completed = (try await batchState(ports[0], id)["request_counts"] as? [String: Int])?["completed"] ?? 0
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(completed >= Self.items / 5 && completed < Self.items, "killed mid-batch at \(completed)")
        await processes.kill9(first)
        try await checkIntegrity()

        // Restart (SQLite) or let the survivor drain (PostgreSQL); kill again while finalizing.
        var port = ports[1]
        if let survivor = second {
            first = survivor
        } else {
            first = try processes.start(executable, config: configs[1], log: directory.appendingPathComponent("b.log"))
            try await waitListening(port, first)
        }
        var status = ""
        for _ in 0..<3_000 where status != "finalizing" {
            status = try await batchState(port, id)["status"] as? String ?? ""
            #expect(status != "completed", "the finalizing window was missed")
            if status == "completed" { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(status == "finalizing")
        await processes.kill9(first)
        try await checkIntegrity()

        let last = try processes.start(executable, config: configs[0], log: directory.appendingPathComponent("c.log"))
        port = ports[0]
        try await waitListening(port, last)
        var batch: [String: Any] = [:]
        for _ in 0..<1_500 {
            batch = try await batchState(port, id)
            if batch["status"] as? String == "completed" { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(batch["status"] as? String == "completed")
        var lines: [[String: Any]] = []
        for key in ["output_file_id", "error_file_id"] {
            guard let file = batch[key] as? String else { continue }
            lines += jsonLines(Array(try await call(port, .GET, "/v1/files/\(file)/content").1.utf8))
        }
        let ids = lines.compactMap { $0["custom_id"] as? String }
        #expect(ids.count == Self.items)
        #expect(Set(ids) == Set((1...Self.items).map { "item-\($0)" }))
        let counts = batch["request_counts"] as? [String: Int]
        #expect((counts?["completed"] ?? 0) + (counts?["failed"] ?? 0) == Self.items)

        // Some items ran twice (their first worker died), yet answered once.
        let queue = try await BatchService.openQueue(settings, logger: .init(label: "crash-test"))
        let retried = try await queue.driver.read { executor in
            try executor.query("SELECT COUNT(*) AS n FROM gw_items WHERE attempt >= 2", []).first?.int("n") ?? 0
        }
        await queue.close()
        #expect(retried >= 1, "items with a second attempt: \(retried)")
        kill(last.processIdentifier, SIGTERM)
        for _ in 0..<200 where last.isRunning { try await Task.sleep(for: .milliseconds(25)) }
        #expect(!last.isRunning && last.terminationStatus == 0)
        try await checkIntegrity()
    }
}
