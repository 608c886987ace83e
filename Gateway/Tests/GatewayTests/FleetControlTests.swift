import AsyncHTTPClient
import Foundation
import MockEngine
import NIOCore
import NIOHTTP1
@_spi(Simulation) import PrefixRouter
import Testing

@testable import PrefixGateway

/// Drain, health, slow start, reload and graceful shutdown, through the gateway.
@Suite("Fleet control", .serialized)
struct FleetControlTests {
    @Test("draining a replica sends new requests elsewhere and lets its streams finish")
    func drain() async throws {
        let slow = MockEngineConfiguration(models: [testModel], decodeTokensPerSecond: 20, defaultMaxTokens: 1_000)
        try await gatewayFixture(
            engines: 2,
            engine: slow,
            configure: {
                $0.auth.adminKey = "admin"
                $0.routing.strategy = .leastOutstanding
            }
        ).run { harness in
            let (task, release) = try await openStream(harness, "long")
            let busy = try #require(harness.gateway.snapshot().replicas.first { $0.outstanding == 1 }).id
            let admin = [("authorization", "Bearer admin")]
            #expect(try await harness.post("/admin/replicas/\(busy)/drain", body: "").status == 401)
            let drained = try await harness.post("/admin/replicas/\(busy)/drain", body: "", headers: admin)
            #expect(drained.status == 200)
            #expect(drained.body.contains(#""state":"draining""#))
            // Its stream keeps running; new requests go to the other replica.
            for index in 0..<4 {
                let reply = try await harness.post(
                    "/v1/chat/completions",
                    body: harness.chat([("user", "q\(index)")], stream: false, maxTokens: 1)
                )
                #expect(reply.status == 200)
            }
            let busyIndex = harness.gateway.snapshot().replicas.firstIndex { $0.id == busy } ?? -1
            #expect(harness.engines[busyIndex].stats.requestsReceived == 1)
            #expect(harness.gateway.snapshot().replica(busy)?.outstanding == 1)
            release.yield()
            try await task.value
            let undrained = try await harness.post("/admin/replicas/\(busy)/undrain", body: "", headers: admin)
            #expect(undrained.body.contains(#""state":"active""#))
            let weight = try await harness.post(
                "/admin/replicas/\(busy)/weight",
                body: #"{"weight": 3}"#,
                headers: admin
            )
            #expect(weight.status == 200)
            #expect(harness.gateway.snapshot().replica(busy)?.weight == 3)
            #expect(try await harness.post("/admin/replicas/nope:1/drain", body: "", headers: admin).status == 404)
            let fleet = try await harness.get("/admin/fleet", headers: admin)
            #expect(fleet.status == 200)
            #expect(fleet.body.contains(#""strategy":"least-outstanding""#))
            try await harness.expectIdle()
        }
    }

    @Test("active health checks mark a failing replica down, and up again")
    func activeHealthChecks() async throws {
        try await gatewayFixture(
            engines: 2,
            configure: {
                $0.health.activeChecks = true
                $0.health.intervalSeconds = 0.05
                $0.health.unhealthyThreshold = 2
                $0.health.healthyThreshold = 2
                $0.health.slowStartSeconds = 0
            }
        ).run { harness in
            let sick = harness.gateway.snapshot().replicas[0].id
            harness.engines[0].setHealthy(false)
            try await harness.eventually("marked down") { harness.gateway.snapshot().replica(sick)?.health == .down }
            for index in 0..<4 {
                let reply = try await harness.post(
                    "/v1/chat/completions",
                    body: harness.chat([("user", "q\(index)")], stream: false, maxTokens: 1)
                )
                #expect(reply.status == 200)
            }
            #expect(harness.engines[0].stats.requestsReceived == 0)
            harness.engines[0].setHealthy(true)
            try await harness.eventually("marked up") { harness.gateway.snapshot().replica(sick)?.health == .up }
            try await harness.expectIdle()
        }
    }

    @Test("consecutive 503s eject a replica, within the ejection cap")
    func passiveEjection() async throws {
        try await gatewayFixture(
            engines: 2,
            configure: {
                $0.health.passiveFailureThreshold = 2
                $0.health.ejectionSeconds = 60
                $0.health.maxEjectedPercent = 50
                $0.routing.strategy = .roundRobin
            }
        ).run { harness in
            harness.engines[0].setFaults(MockEngineFaults(failStatus: 503))
            harness.engines[1].setFaults(MockEngineFaults(failStatus: 503))
            var statuses: [Int] = []
            for index in 0..<8 {
                let reply = try await harness.post(
                    "/v1/chat/completions",
                    body: harness.chat([("user", "q\(index)")], stream: false, maxTokens: 1)
                )
                statuses.append(reply.status)
            }
            #expect(statuses.allSatisfy { $0 == 503 }, "the engine's 503 is relayed: \(statuses)")
            let down = harness.gateway.snapshot().replicas.filter { $0.health == .down }
            #expect(down.count == 1, "at most 50% of the fleet is ejected")
            try await harness.expectIdle()
        }
    }

    @Test("a 4xx from the engine never ejects a replica")
    func clientErrorsDoNotEject() async throws {
        try await gatewayFixture(engines: 1, configure: { $0.health.passiveFailureThreshold = 1 }).run { harness in
            harness.engines[0].setFaults(MockEngineFaults(failStatus: 400))
            for _ in 0..<3 {
                let reply = try await harness.post("/v1/chat/completions", body: harness.chat([("user", "q")]))
                #expect(reply.status == 400)
            }
            #expect(harness.gateway.snapshot().replicas[0].health == .up)
            try await harness.expectIdle()
        }
    }

    @Test("reload adds, removes and reweights replicas without dropping a stream")
    func reload() async throws {
        let slow = MockEngineConfiguration(models: [testModel], decodeTokensPerSecond: 50, defaultMaxTokens: 1_000)
        let extra = MockEngine(configuration: MockEngineConfiguration(models: [testModel, "other-model"]))
        let extraPort = try await extra.start()
        do {
            try await gatewayFixture(engines: 1, engine: slow, configure: { $0.health.slowStartSeconds = 0 }).run {
                harness in
                let (task, release) = try await openStream(harness, "stream across the reload")
                var configuration = harness.gateway.core.configuration
                configuration.replicas = [
                    ReplicaConfiguration(
                        url: "http://127.0.0.1:\(extraPort)",
                        models: [testModel, "other-model"],
                        weight: 2
                    )
                ]
                try harness.gateway.reload(configuration)
                let snapshot = harness.gateway.snapshot()
                #expect(snapshot.replicas.map(\.id) == [ReplicaID("127.0.0.1:\(extraPort)")])
                #expect(snapshot.replicas[0].weight == 2)
                #expect(snapshot.liveLeases == 1, "the removed replica's stream still holds its lease")
                let other = try await harness.post(
                    "/v1/chat/completions",
                    body: harness.chat([("user", "hi")], stream: false, model: "other-model")
                )
                #expect(other.status == 200)
                #expect(extra.stats.requestsReceived == 1)
                release.yield()
                try await task.value
                try await harness.expectIdle()
                // An invalid configuration is refused and the running one kept.
                var invalid = configuration
                invalid.replicas[0].weight = 0
                #expect(throws: GatewayConfigurationError.self) { try harness.gateway.reload(invalid) }
                #expect(harness.gateway.snapshot().replicas.count == 1)
            }
        } catch {
            await extra.stop()
            throw error
        }
        await extra.stop()
    }

    @Test("graceful shutdown lets an in-flight stream finish, refuses new work, and returns")
    func gracefulShutdown() async throws {
        let slow = MockEngineConfiguration(models: [testModel], decodeTokensPerSecond: 100, defaultMaxTokens: 1_000)
        try await withGateway(engines: 1, engine: slow) { harness in
            // A stream of 40 tokens at 100/s: still running when the shutdown starts.
            var request = HTTPClientRequest(url: harness.baseURL + "/v1/chat/completions")
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: harness.chat([("user", "count")], maxTokens: 40)))
            let response = try await harness.client.execute(request, timeout: .seconds(30))
            await harness.gateway.triggerGracefulShutdown()
            let body = String(buffer: try await response.body.collect(upTo: 1 << 20))
            #expect(body.hasSuffix("data: [DONE]\n\n"), "the stream ran to its end")
            #expect(body.contains("tok39"))
            // New connections are refused once the server stopped listening, or answered 503 meanwhile.
            do {
                let late = try await harness.post("/v1/chat/completions", body: harness.chat([("user", "late")]))
                #expect(late.status == 503)
            } catch {
                #expect(UpstreamFailure.classify(error) == .connect, "refused: the listener is closed (\(error))")
            }
            try await harness.expectIdle()
        }
    }
}

/// The gateway's routing strategy wrapper, without HTTP.
@Suite("Capped strategy")
struct CappedStrategyTests {
    @Test("a replica that comes back starts with a cap of 1 that ramps over the slow-start window")
    func slowStart() throws {
        let router = try FleetRouter(
            replicaIDs: ["a", "b"],
            strategy: CappedStrategy(base: LeastOutstanding(seed: 1), cap: 100, slowStart: .seconds(60)),
            configuration: FleetConfiguration(minimumCapacity: 1_000)
        )
        try router.markDown("b")
        try router.markUp("b")
        var leases: [Lease] = []
        for _ in 0..<10 {
            let decision = try #require(router.route(RoutingRequest()))
            leases.append(decision.lease)
        }
        #expect(router.outstanding(of: "b") == 1, "b is cold: one request, not half of them")
        #expect(router.outstanding(of: "a") == 9)
        // Later in the window the cap has grown.
        let later = ContinuousClock.now + .seconds(30)
        for _ in 0..<110 {
            if let decision = router.route(RoutingRequest(), at: later) { leases.append(decision.lease) }
        }
        // Halfway through the window b's cap is 50 of 100: least-outstanding would give it 60 of 120.
        #expect(router.outstanding(of: "b") == 50)
        #expect(router.outstanding(of: "a") == 70)
        for lease in leases { lease.release() }
        #expect(router.snapshot().liveLeases == 0)
    }

    @Test("the hard cap refuses when every replica is full, whatever the base strategy")
    func hardCap() throws {
        let router = try FleetRouter(
            replicaIDs: ["a", "b"],
            strategy: CappedStrategy(
                base: try PrefixAffinity(fallback: LeastOutstanding()),
                cap: 2,
                slowStart: .zero
            ),
            configuration: FleetConfiguration(minimumCapacity: 1_000)
        )
        var leases: [Lease] = []
        for _ in 0..<4 {
            leases.append(try #require(router.route(RoutingRequest(blockHashes: [BlockHash(7)]))).lease)
        }
        #expect(router.route(RoutingRequest(blockHashes: [BlockHash(7)])) == nil)
        #expect(router.outstanding(of: "a") == 2 && router.outstanding(of: "b") == 2)
        leases[0].release()
        #expect(router.route(RoutingRequest(blockHashes: [BlockHash(7)])) != nil)
    }
}

/// Configuration files: errors name the field.
@Suite("Configuration")
struct ConfigurationTests {
    private func decode(_ json: String) throws -> GatewayConfiguration {
        try GatewayConfiguration.decode(Data(json.utf8), source: "gateway.json")
    }

    /// Catches: a default strategy other than the bench's `recommended-multi` (README: the gateway's default),
    /// or placement at release on by default for it (the bench's line runs without it).
    @Test("defaults: the library's recommended multi-gateway strategy without release, 8 MiB bodies, floor 8")
    func defaults() throws {
        let configuration = try decode(#"{"replicas":[{"url":"http://10.0.0.1:8000","models":["m"]}]}"#)
        try configuration.validate()
        #expect(configuration.routing.strategy == .estimatedTTFT)
        #expect(GatewayConfiguration().routing.strategy == .estimatedTTFT)
        #expect(configuration.routing.placementAtReleaseSeconds == nil)
        #expect(configuration.routing.resolvedPlacementAtReleaseSeconds == 0)
        #expect(configuration.routing.minimumCapacity == 8)
        #expect(configuration.admission.maxBodyBytes == 8 << 20)
        #expect(configuration.models == ["m"])
        let endpoints = try configuration.replicas.map { try ReplicaEndpoint($0) }
        let router = try RouterFactory.makeRouter(configuration, replicas: endpoints)
        let typed = try #require(router as? FleetRouter<CappedStrategy<EstimatedTTFT<LeastOutstanding>>>)
        typed.withStrategy { _, strategy in
            #expect(strategy.base.candidates == .twoOnRing(keyDepthTokens: 2_048))
            #expect(strategy.base.scatterCharge == 8 && strategy.base.usesEngineMetrics)
            #expect(strategy.cap == configuration.admission.perReplicaCap)
        }
    }

    /// Catches: `estimated-ttft-single` building anything but `EstimatedTTFT.recommendedSingleGateway` (the
    /// bench's `recommended`: every replica, λ = 24, δ = 4 ms, c = 5, no engine metrics), ignoring the
    /// configured index size, or losing the gateway's cap; and a file naming it not parsing.
    @Test(
        "estimated-ttft-single runs EstimatedTTFT.recommendedSingleGateway with the configured index, release at 30 s"
    )
    func estimatedTTFTSingleRouterIsRecommended() throws {
        let configuration = try decode(
            #"{"replicas":[{"url":"http://10.0.0.1:8000","models":["m"]},{"url":"http://10.0.0.2:8000","models":["m"]}],"routing":{"strategy":"estimated-ttft-single","cacheBlocksPerReplica":5000},"admission":{"perReplicaCap":64}}"#
        )
        try configuration.validate()
        #expect(configuration.routing.strategy == .estimatedTTFTSingle)
        #expect(configuration.routing.resolvedPlacementAtReleaseSeconds == 30)
        let endpoints = try configuration.replicas.map { try ReplicaEndpoint($0) }
        let router = try RouterFactory.makeRouter(configuration, replicas: endpoints)
        let typed = try #require(router as? FleetRouter<CappedStrategy<EstimatedTTFT<LeastOutstanding>>>)
        let expected = try EstimatedTTFT.recommendedSingleGateway(
            capacityPerReplica: 5_000,
            fallback: LeastOutstanding()
        )
        typed.withStrategy { _, strategy in
            #expect(strategy.base.candidates == expected.candidates)
            #expect(strategy.base.candidates == .all)
            #expect(strategy.base.scatterCharge == expected.scatterCharge)
            #expect(strategy.base.loadFactor == expected.loadFactor)
            #expect(strategy.base.usesEngineMetrics == expected.usesEngineMetrics)
            #expect(strategy.base.decodeSecondsPerRequest == expected.decodeSecondsPerRequest)
            #expect(strategy.base.temperature == expected.temperature)
            #expect(strategy.base.prefillTokensPerSecond == expected.prefillTokensPerSecond)
            #expect(strategy.base.index.capacityPerReplica == 5_000)
            #expect(strategy.cap == 64)
        }
    }

    /// Catches: the factory building `estimated-ttft` with other parameters than the library's recommended
    /// multi-gateway configuration (candidates, λ, safety net, engine metrics) or ignoring the configured key
    /// depth and index size.
    @Test("estimated-ttft runs EstimatedTTFT.recommendedMultiGateway with the configured key depth and index")
    func estimatedTTFTRouterIsRecommendedMulti() throws {
        let configuration = try decode(
            #"{"replicas":[{"url":"http://10.0.0.1:8000","models":["m"]}],"routing":{"strategy":"estimated-ttft","keyDepthTokens":1024,"cacheBlocksPerReplica":5000}}"#
        )
        try configuration.validate()
        let endpoints = try configuration.replicas.map { try ReplicaEndpoint($0) }
        let router = try RouterFactory.makeRouter(configuration, replicas: endpoints)
        let typed = try #require(router as? FleetRouter<CappedStrategy<EstimatedTTFT<LeastOutstanding>>>)
        let expected = try EstimatedTTFT.recommendedMultiGateway(
            capacityPerReplica: 5_000,
            keyDepthTokens: 1_024,
            fallback: LeastOutstanding()
        )
        typed.withStrategy { _, strategy in
            #expect(strategy.base.candidates == expected.candidates)
            #expect(strategy.base.candidates == .twoOnRing(keyDepthTokens: 1_024))
            #expect(strategy.base.scatterCharge == expected.scatterCharge)
            #expect(strategy.base.loadFactor == expected.loadFactor)
            #expect(strategy.base.usesEngineMetrics == expected.usesEngineMetrics)
            #expect(strategy.base.decodeSecondsPerRequest == expected.decodeSecondsPerRequest)
            #expect(strategy.base.index.capacityPerReplica == 5_000)
        }
    }

    @Test("errors name the file and the field")
    func errors() throws {
        func message(_ json: String) -> String {
            do {
                let configuration = try decode(json)
                try configuration.validate(source: "gateway.json")
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        #expect(
            message(#"{"replicas":[{"url":"http://a:1","models":["m"]}],"admission":{"perReplicaCAP":3}}"#)
                .hasPrefix("gateway.json: admission.perReplicaCAP: unknown field")
        )
        #expect(
            message(
                #"{"replicas":[{"url":"http://a:1","models":["m"]},{"url":"http://b:1","models":["m"],"weight":0}]}"#
            )
                == "gateway.json: replicas[1].weight: expected 1...1000, found 0"
        )
        #expect(
            message(#"{"replicas":[{"url":"ftp://a:1","models":["m"]}]}"#).hasPrefix("gateway.json: replicas[0].url: ")
        )
        #expect(
            message(#"{"replicas":[{"models":["m"]}]}"#) == "gateway.json: replicas[0].url: required field is missing"
        )
        #expect(
            message(#"{"replicas":[{"url":"http://a:1","models":"m"}]}"#).hasPrefix(
                "gateway.json: replicas[0].models: expected"
            )
        )
        #expect(
            message(#"{"replicas":[{"url":"http://a:1","models":["m"]},{"url":"http://a:1/v1","models":["m"]}]}"#)
                .hasPrefix("gateway.json: replicas[1].id: duplicate replica id a:1")
        )
        #expect(
            message(#"{"replicas":[{"url":"http://a:1","models":["m"]}],"routing":{"strategy":"fastest"}}"#)
                .hasPrefix("gateway.json: routing.strategy: ")
        )
        #expect(
            message(#"{"replicas":[{"url":"http://a:1","models":["m"]}],"listen":{"reserveDescriptors":-1}}"#)
                .hasPrefix("gateway.json: listen.reserveDescriptors: expected 0 (off)")
        )
        #expect(message(#"{"replicas": [}"#).hasPrefix("gateway.json: "))
        #expect(message(#"{}"#) == "gateway.json: replicas: expected at least one replica")
    }
}
