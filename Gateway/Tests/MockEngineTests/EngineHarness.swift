import AsyncHTTPClient
import Foundation
import Logging
import MockEngine
import NIOCore
import NIOHTTP1
import Testing

/// A logger that keeps test output quiet.
let quietLogger: Logger = {
    var logger = Logger(label: "mock-engine-tests")
    logger.logLevel = .warning
    return logger
}()

/// Starts an engine on an ephemeral loopback port and a client for it, runs `body`, and always shuts both down.
func withEngine<T>(
    _ configuration: MockEngineConfiguration = MockEngineConfiguration(),
    _ body: (MockEngine, EngineClient) async throws -> T
) async throws -> T {
    let engine = MockEngine(configuration: configuration, logger: quietLogger)
    let port = try await engine.start()
    var clientConfiguration = HTTPClient.Configuration()
    clientConfiguration.httpVersion = .http1Only
    clientConfiguration.connectionPool = .init(
        idleTimeout: .seconds(30),
        concurrentHTTP1ConnectionsPerHostSoftLimit: 64
    )
    clientConfiguration.timeout = .init(connect: .seconds(2), read: .seconds(10))
    let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
    let client = EngineClient(http: http, port: port)
    let result: Result<T, any Error>
    do {
        result = .success(try await body(engine, client))
    } catch {
        result = .failure(error)
    }
    try? await http.shutdown()
    await engine.stop()
    return try result.get()
}

/// An HTTP client bound to one engine.
struct EngineClient: Sendable {
    let http: HTTPClient
    let port: Int

    /// Sends a request and collects the whole answer.
    func send(
        _ method: HTTPMethod,
        _ path: String,
        json: String? = nil,
        headers: [(String, String)] = [],
        timeout: TimeAmount = .seconds(10)
    ) async throws -> (status: Int, body: String, headers: HTTPHeaders) {
        let response = try await start(method, path, json: json, headers: headers, timeout: timeout)
        let body = try await response.body.collect(upTo: 4 << 20)
        return (Int(response.status.code), String(buffer: body), response.headers)
    }

    /// Sends a request and returns the answer's status.
    func status(_ method: HTTPMethod, _ path: String, json: String? = nil) async throws -> Int {
        try await send(method, path, json: json).status
    }

    /// Sends a request and returns as soon as the response head arrives.
    func start(
        _ method: HTTPMethod,
        _ path: String,
        json: String? = nil,
        headers: [(String, String)] = [],
        timeout: TimeAmount = .seconds(10)
    ) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        return try await http.execute(request, timeout: timeout)
    }

    /// The samples of `/metrics`, by name (labels dropped).
    func metrics() async throws -> [String: Double] {
        let (status, body, _) = try await send(.GET, "/metrics")
        #expect(status == 200)
        var samples: [String: Double] = [:]
        for line in body.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let value = Double(parts[1]) else { continue }
            let name = parts[0].split(separator: "{").first.map(String.init) ?? String(parts[0])
            samples[name] = value
        }
        return samples
    }
}

/// A chat request body.
func chatJSON(
    _ content: String,
    maxTokens: Int? = nil,
    stream: Bool = false,
    includeUsage: Bool? = nil,
    priority: Int? = nil,
    model: String = "mock-model"
) -> String {
    var fields = [
        #""model": \#(quoted(model))"#,
        #""messages": [{"role": "user", "content": \#(quoted(content))}]"#,
        #""stream": \#(stream)"#,
    ]
    if let maxTokens { fields.append(#""max_tokens": \#(maxTokens)"#) }
    if let includeUsage { fields.append(#""stream_options": {"include_usage": \#(includeUsage)}"#) }
    if let priority { fields.append(#""priority": \#(priority)"#) }
    return "{" + fields.joined(separator: ", ") + "}"
}

/// A JSON string literal.
func quoted(_ value: String) -> String {
    let data = (try? JSONSerialization.data(withJSONObject: [value], options: [.fragmentsAllowed])) ?? Data()
    let array = String(decoding: data, as: UTF8.self)
    return String(array.dropFirst().dropLast())
}

/// Parses a JSON object, failing the test if it is not one.
func jsonObject(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
    let value = try JSONSerialization.jsonObject(with: Data(text.utf8))
    return try #require(value as? [String: Any], sourceLocation: sourceLocation)
}

/// The `data:` payloads of the complete events of a server-sent-events body, in order.
func sseEvents(_ body: String) -> [String] {
    // What follows the last blank line is an incomplete event (or nothing).
    body.components(separatedBy: "\n\n").dropLast().map { event in
        event.hasPrefix("data: ") ? String(event.dropFirst(6)) : "<malformed: \(event)>"
    }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
func eventually(
    timeout: Duration = .seconds(5),
    _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}

/// A streamed request running in its own task: reads chunks until done, or until cancelled.
final class StreamReader: Sendable {
    private let task: Task<[String], any Error>
    private let received = NIOLockedStrings()

    init(_ client: EngineClient, path: String = "/v1/chat/completions", json: String) {
        let received = received
        task = Task {
            let response = try await client.start(.POST, path, json: json)
            var text = ""
            for try await buffer in response.body {
                text += String(buffer: buffer)
                received.set(text)
            }
            return sseEvents(text)
        }
    }

    /// The body received so far, as events.
    var events: [String] { sseEvents(received.value) }

    /// Waits for the stream to end.
    func finish() async throws -> [String] { try await task.value }

    /// Abandons the stream, as a client that hangs up.
    func cancel() async {
        task.cancel()
        _ = await task.result
    }
}
