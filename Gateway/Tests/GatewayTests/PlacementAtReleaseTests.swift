import AsyncHTTPClient
import Foundation
import MockEngine
import NIOCore
import NIOHTTP1
import PrefixRouter
import Testing

@testable import PrefixGateway

/// Placement at release (`routing.placementAtReleaseSeconds`), through real HTTP: a completion that ends
/// with status 200 within the TTFT limit has its blocks reported to the router again for its replica.
///
/// Each scenario runs on one engine with an index of exactly one prompt's blocks (`cacheBlocksPerReplica`):
/// a stream of prompt P starts, a prompt Q (at least as many blocks) is routed and served while it runs, which
/// evicts P from the index; then P's stream ends. Only a report at P's end puts P back in the index, so that
/// P sent once more is a cache match instead of a miss (the routing-decision counter tells them apart).
@Suite("Placement at release", .serialized)
struct PlacementAtReleaseTests {
    enum Ending {
        /// The stream runs to `data: [DONE]`.
        case completes
        /// The client hangs up after the first chunk.
        case clientCancels
        /// The engine stops sending after two tokens; the gateway's read timeout ends the stream.
        case upstreamTimesOut
    }

    static let promptP = "P: " + String(repeating: "Keep the ledger balanced at all times. ", count: 25)
    static let promptQ = "Q: " + String(repeating: "Write poems about the sea and the wind. ", count: 30)
    static let matches = #"gateway_routing_decisions_total{reason="cache_match"}"#

    static func chat(_ text: String, stream: Bool, maxTokens: Int) -> String {
        #"{"model":"\#(testModel)","stream":\#(stream),"max_tokens":\#(maxTokens),"messages":[{"role":"user","content":\#(jsonString(text))}]}"#
    }

    static func blocks(_ text: String) throws -> [BlockHash] {
        let keys = try RoutingKeyBuilder(models: [testModel], blockSize: 16)
        let request = try CompletionRequest.decode(
            Array(chat(text, stream: false, maxTokens: 1).utf8),
            endpoint: .chatCompletions
        )
        return try #require(keys.routingRequest(for: request, sessionKey: nil)).blockHashes
    }

    /// Runs the scenario; returns whether P, sent again at the end, was a cache match. `limitSeconds` nil: the
    /// strategy's default.
    func finalRequestMatches(
        strategy: RoutingStrategyName,
        limitSeconds: Double?,
        ending: Ending = .completes,
        prefillOverhead: Duration = .milliseconds(1)
    ) async throws -> Bool {
        let blocksP = try Self.blocks(Self.promptP)
        let blocksQ = try Self.blocks(Self.promptQ)
        try #require(blocksQ.count >= blocksP.count && blocksP.count > 2)
        try #require(blocksP[0] != blocksQ[0], "the two prompts share no block")
        let engine = MockEngineConfiguration(
            models: [testModel],
            prefillOverhead: prefillOverhead,
            decodeTokensPerSecond: 200,
            faults: MockEngineFaults(stallAfterTokens: ending == .upstreamTimesOut ? 2 : nil)
        )
        var matched = false
        try await gatewayFixture(
            engines: 1,
            engine: engine,
            configure: {
                $0.routing.strategy = strategy
                $0.routing.cacheBlocksPerReplica = blocksP.count
                $0.routing.placementAtReleaseSeconds = limitSeconds
                if ending == .upstreamTimesOut { $0.upstream.readTimeoutSeconds = 0.5 }
            }
        ).run { harness in
            let client = harness.client
            // 600 tokens at 200 a second: P streams for three seconds, long past Q's answer even on a loaded
            // machine (P must still be running when Q is routed, or the scenario is another one).
            let streamedP = Self.chat(Self.promptP, stream: true, maxTokens: ending == .clientCancels ? 2_000 : 600)
            let (firstChunk, firstChunkSeen) = AsyncStream<Void>.makeStream()
            let (hangUp, hangUpNow) = AsyncStream<Void>.makeStream()
            let request = harness.jsonRequest("/v1/chat/completions", body: streamedP)
            let stream = Task {
                let response = try await client.execute(request, timeout: .seconds(30))
                var text = ""
                for try await chunk in response.body {
                    firstChunkSeen.yield()
                    if ending == .clientCancels {  // after Q: drop the response, a hang-up
                        var wait = hangUp.makeAsyncIterator()
                        _ = await wait.next()
                        break
                    }
                    text += String(buffer: chunk)
                }
                firstChunkSeen.finish()
                return text
            }
            var iterator = firstChunk.makeAsyncIterator()
            _ = await iterator.next()
            #expect(harness.engines[0].stats.running == 1, "P streaming")
            #expect(try await harness.metric(Self.matches) == 0)

            let q = try await harness.post(
                "/v1/chat/completions",
                body: Self.chat(Self.promptQ, stream: false, maxTokens: 1)
            )
            #expect(q.status == 200)
            #expect(harness.engines[0].stats.running == 1, "P still streaming after Q")
            hangUpNow.finish()
            let text = try await stream.value
            switch ending {
            case .completes: #expect(text.hasSuffix("data: [DONE]\n\n"))
            case .clientCancels: #expect(text.isEmpty)
            case .upstreamTimesOut: #expect(text.contains(#""error""#) && !text.contains("[DONE]"))
            }
            try await harness.eventually("P ended") { harness.engines[0].stats.running == 0 }
            try await harness.eventually("P's exchange ended") { harness.gateway.snapshot().inFlight == 0 }

            let again = try await harness.post(
                "/v1/chat/completions",
                body: Self.chat(Self.promptP, stream: false, maxTokens: 1)
            )
            #expect(again.status == 200)
            let count = try await harness.metric(Self.matches)
            #expect(count <= 1)
            matched = count == 1
            try await harness.expectIdle()
        }
        return matched
    }

    // Catches: a gateway that never reports the placement at the end (P would be a miss), or that reports the
    // wrong blocks or replica.
    @Test("a stream completed within the limit puts its blocks back in the index (estimated-ttft)")
    func completedWithinLimit() async throws {
        #expect(try await finalRequestMatches(strategy: .estimatedTTFT, limitSeconds: 30))
    }

    // Catches: the same for the other strategy with an index (and the scenario itself: without the report,
    // the control below, it is a miss).
    @Test("the same with cache-aware; off (0): P was forgotten")
    func cacheAwareAndOff() async throws {
        #expect(try await finalRequestMatches(strategy: .cacheAware, limitSeconds: 30))
        #expect(try await finalRequestMatches(strategy: .estimatedTTFT, limitSeconds: 0) == false)
    }

    // Catches: the strategy's default not applied when the field is absent: the bench's `recommended`
    // (estimated-ttft-single) reports at release, its `recommended-multi` (estimated-ttft, the default) does not.
    @Test("absent: on at 30 s for estimated-ttft-single, off for estimated-ttft")
    func strategyDefaults() async throws {
        #expect(try await finalRequestMatches(strategy: .estimatedTTFTSingle, limitSeconds: nil))
        #expect(try await finalRequestMatches(strategy: .estimatedTTFT, limitSeconds: nil) == false)
    }

    // Catches: a limit that is ignored (or compared with something other than the time to first token): a
    // 150 ms prefill overhead puts P's first token past a 50 ms limit, but well within 30 s.
    @Test("a first token later than the limit is not reported")
    func firstTokenPastTheLimit() async throws {
        #expect(
            try await finalRequestMatches(
                strategy: .estimatedTTFT,
                limitSeconds: 0.05,
                prefillOverhead: .milliseconds(150)
            ) == false
        )
        #expect(
            try await finalRequestMatches(
                strategy: .estimatedTTFT,
                limitSeconds: 30,
                prefillOverhead: .milliseconds(150)
            )
        )
    }

    // Catches: a report for a stream that did not complete: the client hung up, or the engine stalled and the
    // gateway's read timeout cut it.
    @Test("a cancelled or failed stream is not reported")
    func cancelledOrFailed() async throws {
        #expect(
            try await finalRequestMatches(strategy: .estimatedTTFT, limitSeconds: 30, ending: .clientCancels) == false
        )
        #expect(
            try await finalRequestMatches(strategy: .estimatedTTFT, limitSeconds: 30, ending: .upstreamTimesOut)
                == false
        )
    }

    // Catches: block hashes kept for every request whatever the strategy or the setting (memory per stream),
    // and the report not sent for a stream without a usage plan.
    @Test("block hashes are kept only where the router learns from them")
    func keyKeptOnlyWhenUseful() throws {
        let request = try #require(
            try RoutingKeyBuilder(models: [testModel], blockSize: 16).routingRequest(
                for: CompletionRequest.decode(
                    Array(Self.chat(Self.promptP, stream: true, maxTokens: 1).utf8),
                    endpoint: .chatCompletions
                ),
                sessionKey: nil
            )
        )
        func key(_ strategy: RoutingStrategyName, _ limit: Double?, readsUsage: Bool) -> CacheFeedbackKey? {
            var routing = RoutingConfiguration()
            routing.strategy = strategy
            routing.placementAtReleaseSeconds = limit
            return CacheFeedbackKey(request, configuration: routing, readsUsage: readsUsage, start: .now)
        }
        let indexed: Set<RoutingStrategyName> = [.estimatedTTFT, .estimatedTTFTSingle, .cacheAware]
        for strategy in RoutingStrategyName.allCases where !indexed.contains(strategy) {
            #expect(key(strategy, 30, readsUsage: true) == nil, "\(strategy)")
            #expect(key(strategy, nil, readsUsage: true) == nil, "\(strategy)")
        }
        #expect(key(.estimatedTTFT, 0, readsUsage: true) == nil)
        #expect(key(.estimatedTTFT, nil, readsUsage: true) == nil, "off by default")
        #expect(key(.estimatedTTFTSingle, nil, readsUsage: false)?.placementDeadline != nil, "on by default")
        #expect(key(.estimatedTTFTSingle, 0, readsUsage: false) == nil)
        let streamed = try #require(key(.estimatedTTFT, 30, readsUsage: false))
        #expect(streamed.placementDeadline != nil && !streamed.reportsCachedTokens)
        #expect(streamed.blockHashes == request.blockHashes)
        let cacheAwareOff = try #require(key(.cacheAware, 0, readsUsage: true))
        #expect(cacheAwareOff.placementDeadline == nil && cacheAwareOff.reportsCachedTokens)
        #expect(key(.cacheAware, 0, readsUsage: false) == nil)
    }

    // Catches: a negative, infinite or NaN limit accepted, or an error that does not name the field; null
    // read as the default instead of off; an absent field not resolved to the strategy's default (30 s for
    // estimated-ttft-single and cache-aware, off for estimated-ttft, the default strategy); an explicit value
    // not winning over the default.
    @Test("validation names routing.placementAtReleaseSeconds; null is off, absent the strategy's default")
    func validation() throws {
        var configuration = GatewayConfiguration(replicas: [
            ReplicaConfiguration(url: "http://127.0.0.1:1", models: ["m"])
        ])
        for bad in [-1, Double.infinity, .nan] {
            configuration.routing.placementAtReleaseSeconds = bad
            #expect {
                try configuration.validate()
            } throws: { error in
                "\(error)" == "configuration: routing.placementAtReleaseSeconds: expected 0 (off) or more seconds, "
                    + "found \(bad)"
            }
        }
        configuration.routing.placementAtReleaseSeconds = 0
        try configuration.validate()
        configuration.routing.placementAtReleaseSeconds = nil
        try configuration.validate()
        func decoded(_ routing: String) throws -> RoutingConfiguration {
            let json = #"{"replicas":[{"url":"http://127.0.0.1:1","models":["m"]}],"routing":{\#(routing)}}"#
            let configuration = try GatewayConfiguration.decode(Data(json.utf8), source: "test")
            try configuration.validate(source: "test")
            return configuration.routing
        }
        let absent = try decoded("")
        #expect(absent.strategy == .estimatedTTFT)
        #expect(absent.placementAtReleaseSeconds == nil && absent.resolvedPlacementAtReleaseSeconds == 0)
        let single = try decoded(#""strategy":"estimated-ttft-single""#)
        #expect(single.placementAtReleaseSeconds == nil && single.resolvedPlacementAtReleaseSeconds == 30)
        #expect(try decoded(#""strategy":"cache-aware""#).resolvedPlacementAtReleaseSeconds == 30)
        #expect(try decoded(#""strategy":"prefix-affinity""#).resolvedPlacementAtReleaseSeconds == 0)
        // An explicit value wins, on or off.
        #expect(try decoded(#""placementAtReleaseSeconds":12.5"#).resolvedPlacementAtReleaseSeconds == 12.5)
        #expect(
            try decoded(#""strategy":"estimated-ttft-single","placementAtReleaseSeconds":null"#)
                .resolvedPlacementAtReleaseSeconds == 0
        )
        #expect(
            try decoded(#""strategy":"estimated-ttft-single","placementAtReleaseSeconds":0"#)
                .resolvedPlacementAtReleaseSeconds == 0
        )
        #expect(
            try decoded(#""strategy":"estimated-ttft-single","placementAtReleaseSeconds":5"#)
                .resolvedPlacementAtReleaseSeconds == 5
        )
        #expect(throws: GatewayConfigurationError.self) { try decoded(#""placementAtReleaseSeconds":"soon""#) }
        #expect {
            try decoded(#""strategy":"estimated-ttft-single","placementAtReleaseSeconds":-1"#)
        } throws: { error in
            "\(error)".hasPrefix("test: routing.placementAtReleaseSeconds: ")
        }
        // Encoding keeps "absent" absent, so a saved configuration still follows its strategy's default.
        let encoded = String(decoding: try JSONEncoder().encode(single), as: UTF8.self)
        #expect(!encoded.contains("placementAtReleaseSeconds"))
        #expect(try JSONDecoder().decode(RoutingConfiguration.self, from: Data(encoded.utf8)) == single)
    }
}
