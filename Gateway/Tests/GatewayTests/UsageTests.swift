import AsyncHTTPClient
import Foundation
import MockEngine
import NIOCore
import NIOHTTP1
import PrefixRouter
import Testing

@testable import PrefixGateway

/// The usage rule, through real HTTP: a streamed request whose client did not ask for usage is sent upstream
/// with `stream_options.include_usage`, and the usage chunk is removed from what the client gets; the usage
/// is counted by model and its cached tokens fed back to the router.
@Suite("Usage rule", .serialized)
struct UsageTests {
    private static let usageMember = #""stream_options":{"include_usage":true}"#

    /// Replaces what differs between two runs of the same request on the mock: the id and the creation time.
    private func normalized(_ text: String) -> String {
        var text = text
        for pattern in [#""id":"[^"]*""#, #""created":[0-9]+"#] {
            text = text.replacingOccurrences(of: pattern, with: "_", options: .regularExpression)
        }
        return text
    }

    /// The same request sent straight to the first engine: what a client would get without the gateway.
    private func direct(_ harness: GatewayHarness, _ body: String) async throws -> String {
        let url = try #require(harness.gateway.core.runtime.directory.endpoints.values.first)
            .url("/v1/chat/completions")
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await harness.client.execute(request, timeout: .seconds(30))
        return String(buffer: try await response.body.collect(upTo: 1 << 20))
    }

    private func metric(_ harness: GatewayHarness, _ name: String) async throws -> Double {
        try await harness.metric(#"\#(name){model="\#(testModel)"}"#)
    }

    // Catches: a gateway that does not ask for usage upstream, that leaks the usage chunk to a client that
    // did not ask for it, or that changes any other byte of the stream.
    @Test("no include_usage from the client: asked upstream, usage chunk removed, bytes as a direct call")
    func usageAddedAndRemoved() async throws {
        try await withGateway(engines: 1) { harness in
            let body = harness.chat([("system", "Be brief. ✓ ünïcødé"), ("user", "Count to eight")], maxTokens: 8)
            let reply = try await harness.post("/v1/chat/completions", body: body)
            #expect(reply.status == 200)

            // The engine got the client's body with one member added right after its opening brace.
            let record = try #require(harness.engines[0].stats.lastRequest)
            #expect(record.body == "{" + Self.usageMember + "," + body.dropFirst())

            let direct = try await direct(harness, body)
            #expect(!direct.contains(#""usage""#), "the engine sends no usage when not asked")
            #expect(normalized(reply.body) == normalized(direct))
            #expect(!reply.body.contains(#""usage""#))
            #expect(reply.body.hasSuffix("data: [DONE]\n\n"))

            #expect(try await metric(harness, "gateway_prompt_tokens_total") > 0)
            #expect(try await metric(harness, "gateway_completion_tokens_total") == 8)
            try await harness.expectIdle()
        }
    }

    // Catches: a gateway that strips (or rewrites) the usage chunk a client asked for.
    @Test("include_usage from the client: body forwarded unchanged, usage chunk relayed, and read")
    func clientAskedForUsage() async throws {
        try await withGateway(engines: 1) { harness in
            let body = harness.chat([("user", "Count to five")], maxTokens: 5)
                .replacingOccurrences(of: #""stream":true"#, with: #""stream":true,"# + Self.usageMember)
            let reply = try await harness.post("/v1/chat/completions", body: body)
            #expect(reply.status == 200)
            #expect(harness.engines[0].stats.lastRequest?.body == body)
            #expect(reply.body.contains(#""choices":[],"usage":{"prompt_tokens":"#))
            let direct = try await direct(harness, body)
            #expect(normalized(reply.body) == normalized(direct))
            #expect(try await metric(harness, "gateway_completion_tokens_total") == 5)
            try await harness.expectIdle()
        }
    }

    // Catches: a `stream_options: null` answered by adding a second `stream_options` member (engines read
    // the last one: null, no usage), and a `stream_options` with other members rewritten.
    @Test("stream_options null is replaced in place; other stream_options are left alone")
    func streamOptionsEdits() async throws {
        try await withGateway(engines: 1) { harness in
            let base = harness.chat([("user", "hello")], maxTokens: 3)
            let withNull = base.replacingOccurrences(
                of: #""stream":true"#,
                with: #""stream":true,"stream_options":null"#
            )
            let reply = try await harness.post("/v1/chat/completions", body: withNull)
            #expect(reply.status == 200)
            #expect(
                harness.engines[0].stats.lastRequest?.body
                    == withNull.replacingOccurrences(of: #""stream_options":null"#, with: Self.usageMember)
            )
            #expect(!reply.body.contains(#""usage""#))

            let continuous = base.replacingOccurrences(
                of: #""stream":true"#,
                with: #""stream":true,"stream_options":{"continuous_usage_stats":true}"#
            )
            #expect(try await harness.post("/v1/chat/completions", body: continuous).status == 200)
            #expect(harness.engines[0].stats.lastRequest?.body == continuous)
            try await harness.expectIdle()
        }
    }

    // Catches: usage read from the wrong chunk, or cached tokens not read at all.
    @Test("a repeated prompt's cached tokens are counted")
    func cachedTokensCounted() async throws {
        try await withGateway(engines: 2) { harness in
            let system = String(repeating: "You answer questions about the quarterly accounts. ", count: 40)
            let body = harness.chat([("system", system), ("user", "What changed?")], maxTokens: 4)
            let first = try await harness.post("/v1/chat/completions", body: body)
            #expect(first.status == 200)
            let promptAfterFirst = try await metric(harness, "gateway_prompt_tokens_total")
            #expect(promptAfterFirst > 0)
            #expect(try await metric(harness, "gateway_cached_prompt_tokens_total") == 0)

            let second = try await harness.post("/v1/chat/completions", body: body)
            #expect(second.status == 200)
            #expect(!second.body.contains(#""usage""#))
            let cached = try await metric(harness, "gateway_cached_prompt_tokens_total")
            let prompt = try await metric(harness, "gateway_prompt_tokens_total")
            #expect(prompt == 2 * promptAfterFirst)
            #expect(cached > promptAfterFirst / 2, "most of the repeated prompt was cached: \(cached)")
            #expect(cached <= promptAfterFirst)
            try await harness.expectIdle()
        }
    }

    // Catches: cached tokens read but never fed back to the router (or fed back for the wrong blocks). The
    // cache-aware index holds one prompt's blocks: a second prompt evicts the first from the index while the
    // first one's stream runs; only the feedback at that stream's end puts it back, so that the next request
    // for it is a cache match instead of a miss.
    @Test("cached tokens are fed back to the router (cache-aware)")
    func cachedTokensObserved() async throws {
        func chat(_ system: String, stream: Bool, maxTokens: Int) -> String {
            #"{"model":"\#(testModel)","stream":\#(stream),"max_tokens":\#(maxTokens),"messages":[{"role":"system","content":\#(jsonString(system))},{"role":"user","content":"go"}]}"#
        }
        let promptP = "P: " + String(repeating: "Keep the ledger balanced at all times. ", count: 25)
        let promptQ = "Q: " + String(repeating: "Write poems about the sea and the wind. ", count: 30)
        let keys = try RoutingKeyBuilder(models: [testModel], blockSize: 16)
        func blocks(_ body: String) throws -> [BlockHash] {
            let request = try CompletionRequest.decode(Array(body.utf8), endpoint: .chatCompletions)
            return try #require(keys.routingRequest(for: request, sessionKey: nil)).blockHashes
        }
        let blocksP = try blocks(chat(promptP, stream: false, maxTokens: 1))
        let blocksQ = try blocks(chat(promptQ, stream: false, maxTokens: 1))
        try #require(blocksQ.count >= blocksP.count && blocksP.count > 2)
        try #require(blocksP[0] != blocksQ[0], "the two prompts share no block")

        let engine = MockEngineConfiguration(models: [testModel], decodeTokensPerSecond: 200)
        try await gatewayFixture(
            engines: 1,
            engine: engine,
            configure: {
                $0.routing.strategy = .cacheAware
                $0.routing.cacheBlocksPerReplica = blocksP.count
                $0.routing.placementAtReleaseSeconds = 0  // the cached tokens alone (PlacementAtReleaseTests)
            }
        ).run { harness in
            let matches = #"gateway_routing_decisions_total{reason="cache_match"}"#
            #expect(
                try await harness.post("/v1/chat/completions", body: chat(promptP, stream: false, maxTokens: 1)).status
                    == 200
            )
            #expect(try await harness.metric(matches) == 0)

            // P again, streamed: a cache match; while it streams, Q evicts P from the index.
            let client = harness.client
            let request = harness.jsonRequest("/v1/chat/completions", body: chat(promptP, stream: true, maxTokens: 200))
            let stream = Task {
                let response = try await client.execute(request, timeout: .seconds(30))
                return String(buffer: try await response.body.collect(upTo: 1 << 20))
            }
            try await harness.eventually("P streaming") { harness.engines[0].stats.running == 1 }
            #expect(try await harness.metric(matches) == 1)
            #expect(
                try await harness.post("/v1/chat/completions", body: chat(promptQ, stream: false, maxTokens: 1)).status
                    == 200
            )
            #expect(harness.engines[0].stats.running == 1, "P still streaming after Q")
            let text = try await stream.value
            #expect(text.hasSuffix("data: [DONE]\n\n"))
            #expect(try await metric(harness, "gateway_cached_prompt_tokens_total") > 0)

            // P once more: its blocks are back in the index only through the feedback.
            #expect(
                try await harness.post("/v1/chat/completions", body: chat(promptP, stream: false, maxTokens: 1)).status
                    == 200
            )
            #expect(try await harness.metric(matches) == 2, "P matched again after the engine reported it cached")
            try await harness.expectIdle()
        }
    }

    // Catches: a non-streamed answer that is altered, or a non-streamed request that gets stream_options.
    @Test("non-streamed requests and answers are unchanged; their usage is counted")
    func nonStreamedUnchanged() async throws {
        try await withGateway(engines: 1) { harness in
            let body = harness.chat([("user", "hi there")], stream: false, maxTokens: 3)
            let reply = try await harness.post("/v1/chat/completions", body: body)
            #expect(reply.status == 200)
            #expect(harness.engines[0].stats.lastRequest?.body == body)
            #expect(normalized(reply.body) == normalized(try await direct(harness, body)))
            #expect(reply.body.contains(#""usage":{"#))
            #expect(try await metric(harness, "gateway_completion_tokens_total") == 3)
            try await harness.expectIdle()
        }
    }

    // Catches: a setting that does not turn the rewrite off.
    @Test("upstream.requestUsage false: streamed bodies are forwarded byte for byte")
    func requestUsageOff() async throws {
        try await gatewayFixture(engines: 1, configure: { $0.upstream.requestUsage = false }).run { harness in
            let body = harness.chat([("user", "hello")], maxTokens: 3)
            let reply = try await harness.post("/v1/chat/completions", body: body)
            #expect(reply.status == 200)
            #expect(harness.engines[0].stats.lastRequest?.body == body)
            #expect(!reply.body.contains(#""usage""#))
            #expect(try await metric(harness, "gateway_prompt_tokens_total") == 0)
            try await harness.expectIdle()
        }
    }
}

/// The body edit and the SSE filter on their own, on inputs the mock engine does not produce.
@Suite("Usage rule: body edit and SSE filter")
struct UsageUnitTests {
    private func edited(_ body: String) -> String? {
        StreamUsageRequest.addingIncludeUsage(to: ByteBuffer(string: body)).map { String(buffer: $0) }
    }

    @Test("the body edit is minimal, or refused")
    func bodyEdits() {
        let member = #""stream_options":{"include_usage":true}"#
        #expect(edited(#"  {"model":"m","stream":true}"#) == #"  {"# + member + #","model":"m","stream":true}"#)
        #expect(edited(#"{}"#) == "{" + member + "}")
        #expect(
            edited(#"{"a":1, "stream_options" : null ,"b":[{"c":"}"}]}"#)
                == #"{"a":1, "stream_options" : {"include_usage":true} ,"b":[{"c":"}"}]}"#
        )
        #expect(edited(#"{"stream_options":{}}"#) == "{" + member + "}")
        #expect(edited(#"{"stream_options":{ "include_usage": false }}"#) == "{" + member + "}")
        #expect(edited(#"{"stream_options":{"include_usage":false,"continuous_usage_stats":true}}"#) == nil)
        #expect(edited(#"{"stream_options":null,"stream_options":null}"#) == nil)
        #expect(edited(#"{"stream\u005foptions":null}"#) == nil)
        #expect(edited(#"[1,2]"#) == nil)
        // A string value containing the key's text is not a key.
        #expect(edited(#"{"x":"\"stream_options\":null"}"#) == #"{"# + member + #","x":"\"stream_options\":null"}"#)
    }

    private let stream =
        #"data: {"id":"a","choices":[{"index":0,"delta":{"content":"\"usage\": {} tok0"},"finish_reason":null}]}"#
        + "\n\n"
        + #"data: {"id":"a","choices":[{"index":0,"delta":{"content":" tok1"},"finish_reason":"length"}],"usage":null}"#
        + "\n\n"
    private let usageEvent =
        #"data: {"id":"a","choices":[],"usage":{"prompt_tokens":40,"completion_tokens":2,"total_tokens":42,"prompt_tokens_details":{"cached_tokens":32}}}"#
        + "\r\n\r\n"
    private let done = "data: [DONE]\n\n"

    /// Runs `reads` through a filter; returns what it wrote and the usage it read.
    private func filter(_ reads: [String], strip: Bool) -> (String, ReportedUsage?) {
        var filter = UsageFilter(plan: UsagePlan(strip: strip))
        var output = ""
        for read in reads {
            if let bytes = filter.process(ByteBuffer(string: read)) { output += String(buffer: bytes) }
        }
        if let rest = filter.finish() { output += String(buffer: rest) }
        return (output, filter.usage)
    }

    @Test("the usage chunk is found and removed wherever the reads split the stream")
    func everySplit() {
        let whole = Array((stream + usageEvent + done).utf8)
        let expected = ReportedUsage(promptTokens: 40, completionTokens: 2, cachedTokens: 32)
        for cut in 1..<whole.count {
            let reads = [
                String(decoding: whole[..<cut], as: UTF8.self), String(decoding: whole[cut...], as: UTF8.self),
            ]
            let (stripped, usage) = filter(reads, strip: true)
            #expect(stripped == stream + done, "split at \(cut)")
            #expect(usage == expected, "split at \(cut)")
            let (kept, keptUsage) = filter(reads, strip: false)
            #expect(kept == stream + usageEvent + done, "split at \(cut)")
            #expect(keptUsage == expected)
        }
        let (bytewise, usage) = filter(whole.map { String(decoding: [$0], as: UTF8.self) }, strip: true)
        #expect(bytewise == stream + done)
        #expect(usage == expected)
    }

    @Test("a stream without a final usage chunk passes unchanged, an unterminated tail included")
    func noUsage() {
        let (output, usage) = filter([stream, "data: {\"partial\""], strip: true)
        #expect(output == stream + "data: {\"partial\"")
        #expect(usage == nil)
    }

    @Test("the usage of a non-streamed answer is read from its last usage member")
    func responseUsage() {
        let body = ByteBuffer(
            string:
                #"{"choices":[{"message":{"content":"\"usage\":{\"prompt_tokens\":9}"}}],"usage":{"prompt_tokens":7,"completion_tokens":1,"prompt_tokens_details":null}}"#
        )
        let usage = body.withUnsafeReadableBytes(ReportedUsage.inResponse)
        #expect(usage == ReportedUsage(promptTokens: 7, completionTokens: 1, cachedTokens: nil))
    }
}
