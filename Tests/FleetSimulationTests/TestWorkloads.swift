@_spi(Internals) import PrefixRouter

@testable import _FleetSimulation

/// Small workloads for tests (the debug build is slow).
enum TestWorkloads {
    /// A small synthetic workload: sessions, shared system prompts, one-offs.
    static func synthetic(seed: UInt64 = 7, requests: Int = 240) throws -> Trace {
        var generator = SyntheticWorkload()
        generator.seed = seed
        generator.requests = requests
        generator.systemPrompts = 6
        generator.systemPromptTokens = 64...400
        generator.userTokens = 16...300
        generator.outputTokens = 2...60
        generator.sessionsPerSecond = 2
        generator.meanThinkSeconds = 3
        return try generator.generate()
    }

    /// A Mooncake-like trace: every request opens with block 0 (like the conversation trace), prefixes reused.
    static func mooncakeLike(requests: Int = 200, seed: UInt64 = 3) -> Trace {
        var random = RandomSource(seed: seed)
        var lines: [TraceRequest] = []
        var nextID = 1
        var conversations: [[Int]] = []
        for index in 0..<requests {
            var ids: [Int]
            if !conversations.isEmpty, random.next(below: 2) == 0 {
                let pick = random.next(below: conversations.count)
                ids = conversations[pick]
            } else {
                ids = [0]
            }
            for _ in 0..<(1 + random.next(below: 4)) {
                ids.append(nextID)
                nextID += 1
            }
            conversations.append(ids)
            let input = ids.count * 64 - random.next(below: 32)
            lines.append(
                TraceRequest(
                    arrival: Double(index) * 0.05,
                    inputTokens: input,
                    outputTokens: 1 + random.next(below: 40),
                    blockHashes: ids.map(MooncakeLineParser.blockHash(ofID:)),
                    blockSize: 64
                )
            )
        }
        return Trace(requests: lines, format: .mooncake, source: "test", hasPrefixInfo: true)
    }

    /// Parameters sized for the small workloads.
    static func parameters(replicas: Int = 4, cacheBlocks: Int? = 400) -> SimulationParameters {
        var parameters = SimulationParameters()
        parameters.replicas = replicas
        parameters.cacheBlocks = cacheBlocks
        parameters.measureRoutingCost = false
        parameters.prefillTokensPerSecond = 20_000
        return parameters
    }
}
