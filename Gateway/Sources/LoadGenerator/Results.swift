import NIOCore
import NIOHTTP1
import Synchronization

/// What every stream reported so far; shared by all event loops.
final class Results: Sendable {
    struct State: Sendable {
        /// Streams with their first body byte (status 200).
        var firstBytes = 0
        /// Streams that ended, however.
        var finished = 0
        /// Streams that ended before their first byte.
        var finishedWithoutFirstByte = 0
        /// Streams that ended well.
        var ok = 0
        var errors: [String: Int] = [:]
        var ttfbNanoseconds: [UInt64] = []
        var minBytes = Int.max
        var maxBytes = 0

        /// Streams with their first byte or ended.
        var settled: Int { firstBytes + finishedWithoutFirstByte }
        /// Streams open and streaming now.
        var streaming: Int { firstBytes - (finished - finishedWithoutFirstByte) }
    }

    private let state = Mutex(State())

    func firstByte(nanoseconds: UInt64) {
        state.withLock {
            $0.firstBytes += 1
            $0.ttfbNanoseconds.append(nanoseconds)
        }
    }

    /// A stream ended: `error` nil is success.
    func finish(_ error: String?, bytes: Int, hadFirstByte: Bool) {
        state.withLock {
            $0.finished += 1
            if !hadFirstByte { $0.finishedWithoutFirstByte += 1 }
            if let error {
                $0.errors[error, default: 0] += 1
            } else {
                $0.ok += 1
                $0.minBytes = min($0.minBytes, bytes)
                $0.maxBytes = max($0.maxBytes, bytes)
            }
        }
    }

    func snapshot() -> State { state.withLock { $0 } }
}

/// The `RESULT` line.
struct Report: Encodable {
    var streams: Int
    var ok: Int
    var errors: [String: Int]
    var ttfbMilliseconds: [String: Double]
    var minBytes: Int
    var maxBytes: Int
    var elapsedSeconds: Double

    init(state: Results.State, streams: Int, elapsed: Double) {
        self.streams = streams
        ok = state.ok
        errors = state.errors
        let sorted = state.ttfbNanoseconds.sorted()
        func percentile(_ p: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            let rank = min(sorted.count - 1, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1)
            return Double(sorted[max(0, rank)]) / 1e6
        }
        ttfbMilliseconds = [
            "p50": percentile(50), "p90": percentile(90), "p99": percentile(99), "max": percentile(100),
            "count": Double(sorted.count),
        ]
        minBytes = state.ok > 0 ? state.minBytes : 0
        maxBytes = state.maxBytes
        elapsedSeconds = elapsed
    }
}

/// A stream's request: head and body, built before connecting.
struct StreamRequest: Sendable {
    var head: HTTPRequestHead
    var body: ByteBuffer
}

/// Builds chat-completion requests: a shared system prompt, then a user message naming the conversation, so
/// that conversations hash apart and every copy of one conversation hashes alike.
struct RequestFactory: Sendable {
    let model: String
    let maxTokens: Int
    let system: String
    let label: String

    init(model: String, maxTokens: Int, promptBytes: Int, label: String) {
        self.model = model
        self.maxTokens = maxTokens
        self.label = label
        let sentence = "You are a careful assistant of the load test; answer briefly and cite nothing. "
        var system = ""
        while system.utf8.count + sentence.utf8.count <= max(0, promptBytes - 64) { system += sentence }
        self.system = system
    }

    /// About 256 bytes naming the conversation throughout, so that its id lies in whole hashed blocks (a
    /// trailing partial block is not hashed: conversations that differ only there share a routing key).
    func userMessage(_ conversation: Int) -> String {
        var text = ""
        while text.utf8.count < 256 { text += "Conversation \(conversation): go on with the story. " }
        return text
    }

    func make(stream: Int, conversation: Int, host: String) -> StreamRequest {
        let json =
            "{\"model\":\"\(model)\",\"stream\":true,\"max_tokens\":\(maxTokens),\"messages\":["
            + "{\"role\":\"system\",\"content\":\"\(system)\"},"
            + "{\"role\":\"user\",\"content\":\"\(userMessage(conversation))\"}]}"
        var body = ByteBuffer()
        body.writeString(json)
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/chat/completions")
        head.headers.add(name: "host", value: host)
        head.headers.add(name: "content-type", value: "application/json")
        head.headers.add(name: "accept", value: "text/event-stream")
        head.headers.add(name: "content-length", value: String(body.readableBytes))
        head.headers.add(name: "x-request-id", value: "\(label)-c\(conversation)-s\(stream)")
        head.headers.add(name: "connection", value: "close")
        return StreamRequest(head: head, body: body)
    }
}
