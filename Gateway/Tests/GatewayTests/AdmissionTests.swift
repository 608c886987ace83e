import AsyncHTTPClient
import MockEngine
import NIOCore
import NIOHTTP1
import PrefixRouter
import Testing

@testable import PrefixGateway

/// Explicit backpressure: 429 at once over a cap, with jittered Retry-After headers.
@Suite("Admission", .serialized)
struct AdmissionTests {
    private let slowEngine = MockEngineConfiguration(
        models: [testModel],
        decodeTokensPerSecond: 5,
        defaultMaxTokens: 1_000
    )

    @Test("over the global cap: 429 at once with Retry-After and retry-after-ms, jittered")
    func globalCap() async throws {
        try await gatewayFixture(engines: 2, engine: slowEngine, configure: { $0.admission.maxInFlight = 2 }).run {
            harness in
            let first = try await openStream(harness, "one")
            let second = try await openStream(harness, "two")
            var waits: Set<Int> = []
            for _ in 0..<12 {
                let reply = try await harness.post("/v1/chat/completions", body: harness.chat([("user", "three")]))
                #expect(reply.status == 429)
                #expect(reply.body.contains(#""type":"rate_limit_error""#))
                let ms = try #require(reply.headers.first(name: "retry-after-ms").flatMap(Int.init))
                let seconds = try #require(reply.headers.first(name: "retry-after").flatMap(Int.init))
                #expect((500...8_000).contains(ms))
                #expect(seconds == (ms + 999) / 1_000, "Retry-After is the same wait in whole seconds")
                waits.insert(ms)
            }
            #expect(waits.count > 1, "full jitter: rejected clients are told different waits")
            #expect(harness.requestsPerEngine.reduce(0, +) == 2, "refused requests never reach an engine")
            for (task, release) in [first, second] {
                release.yield()
                try await task.value
            }
            try await harness.expectIdle()
            let rejections = try await harness.metric(#"gateway_admission_rejections_total{reason="global_cap"}"#)
            #expect(rejections == 12)
        }
    }

    @Test("every replica at its cap: 429; a free slot is taken again afterwards")
    func perReplicaCap() async throws {
        try await gatewayFixture(engines: 1, engine: slowEngine, configure: { $0.admission.perReplicaCap = 1 }).run {
            harness in
            let held = try await openStream(harness, "one")
            let reply = try await harness.post("/v1/chat/completions", body: harness.chat([("user", "two")]))
            #expect(reply.status == 429)
            #expect(reply.headers.first(name: "retry-after") != nil)
            #expect(reply.headers.first(name: "retry-after-ms") != nil)
            held.1.yield()
            try await held.0.value
            try await harness.expectIdle()
            let again = try await harness.post(
                "/v1/chat/completions",
                body: harness.chat([("user", "three")], stream: false, maxTokens: 1)
            )
            #expect(again.status == 200)
            let rejections = try await harness.metric(#"gateway_admission_rejections_total{reason="replica_cap"}"#)
            #expect(rejections == 1)
        }
    }

    @Test("no eligible replica: 503 with the same headers")
    func noReplica() async throws {
        try await gatewayFixture(engines: 1, configure: { $0.auth.adminKey = "admin" }).run { harness in
            let id = harness.gateway.snapshot().replicas[0].id.rawValue
            let drained = try await harness.post(
                "/admin/replicas/\(id)/drain",
                body: "",
                headers: [("authorization", "Bearer admin")]
            )
            #expect(drained.status == 200)
            let reply = try await harness.post("/v1/chat/completions", body: harness.chat([("user", "hi")]))
            #expect(reply.status == 503)
            #expect(reply.headers.first(name: "retry-after") != nil)
            #expect(reply.headers.first(name: "retry-after-ms") != nil)
            #expect(harness.engines[0].stats.requestsReceived == 0)
            try await harness.expectIdle()
        }
    }
}

/// Bad input costs nothing: clear errors, no replica touched, no lease leaked.
@Suite("Bad input", .serialized)
struct BadInputTests {
    @Test("401, 400, 404, 405, 413 in OpenAI's shape, and nothing reaches an engine")
    func errors() async throws {
        try await gatewayFixture(
            engines: 1,
            configure: {
                $0.auth.apiKeys = ["sk-good"]
                $0.admission.maxBodyBytes = 4_096
            }
        ).run { harness in
            let auth = [("authorization", "Bearer sk-good")]
            let ok = harness.chat([("user", "hi")])
            var reply = try await harness.post("/v1/chat/completions", body: ok)
            #expect(reply.status == 401)
            #expect(reply.body.contains(#""code":"invalid_api_key""#))
            reply = try await harness.post(
                "/v1/chat/completions",
                body: ok,
                headers: [("authorization", "Bearer sk-bad")]
            )
            #expect(reply.status == 401)
            #expect(try await harness.get("/v1/models").status == 401)

            reply = try await harness.post("/v1/chat/completions", body: "{not json", headers: auth)
            #expect(reply.status == 400)
            #expect(reply.body.contains(#""type":"invalid_request_error""#))
            reply = try await harness.post("/v1/chat/completions", body: #"{"model":"\#(testModel)"}"#, headers: auth)
            #expect(reply.status == 400)
            #expect(reply.body.contains(#""param":"messages""#))
            reply = try await harness.post(
                "/v1/chat/completions",
                body: #"{"model":"\#(testModel)","messages":[{"role":"user","content":7}]}"#,
                headers: auth
            )
            #expect(reply.status == 400)
            #expect(reply.body.contains(#""param":"messages[0].content""#), "\(reply.body)")
            reply = try await harness.post(
                "/v1/completions",
                body: #"{"model":"\#(testModel)","prompt":[1,-2]}"#,
                headers: auth
            )
            #expect(reply.status == 400)
            #expect(reply.body.contains(#""param":"prompt""#), "\(reply.body)")
            reply = try await harness.post("/v1/chat/completions", body: #"{"messages":[]}"#, headers: auth)
            #expect(reply.status == 400)
            #expect(reply.body.contains(#""param":"model""#))

            reply = try await harness.post(
                "/v1/chat/completions",
                body: harness.chat([("user", "hi")], model: "gpt-nope"),
                headers: auth
            )
            #expect(reply.status == 404)
            #expect(reply.body.contains(#""code":"model_not_found""#))

            reply = try await harness.post("/v1/nowhere", body: ok, headers: auth)
            #expect(reply.status == 404)
            let wrongMethod = try await harness.get("/v1/chat/completions", headers: auth)
            #expect(wrongMethod.status == 405)
            #expect(wrongMethod.headers.first(name: "allow") == "POST")

            let big = harness.chat([("user", String(repeating: "x", count: 8_000))])
            reply = try await harness.post("/v1/chat/completions", body: big, headers: auth)
            #expect(reply.status == 413)

            #expect(harness.engines[0].stats.requestsReceived == 0)
            // Labels take configured values only: the unknown model never became one.
            let metrics = try await harness.get("/metrics").body
            #expect(!metrics.contains("gpt-nope"))
            try await harness.expectIdle()

            let models = try await harness.get("/v1/models", headers: auth)
            #expect(models.status == 200)
            #expect(models.body.contains(#""id":"\#(testModel)""#))
            reply = try await harness.post(
                "/v1/chat/completions",
                body: harness.chat([("user", "hi")], stream: false),
                headers: auth
            )
            #expect(reply.status == 200)
        }
    }
}
