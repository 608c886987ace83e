import Foundation
import PrefixRouter

/// A deterministic synthetic workload: shared system prompts with Zipf popularity, multi-turn conversations
/// whose prompt grows turn by turn, one-off requests, Poisson arrivals.
///
/// Sessions start as a Poisson process of rate ``sessionsPerSecond``. A session is a conversation with
/// probability ``conversationShare`` (else a one-off request) and opens with one of ``systemPrompts`` shared
/// system prompts, drawn with Zipf popularity (exponent ``zipfExponent``). A conversation has a geometric
/// number of turns (mean ``meanTurns``); turn *k*'s prompt is the system prompt, every earlier user message
/// and reply, and the new user message, so consecutive turns share a growing prefix. Turns are
/// ``meanThinkSeconds`` apart on average (exponential; open loop: the gap does not wait for the reply).
/// Token ids are pseudo-random, derived from the seed and the content's identity, and hashed with
/// ``PrefixHasher`` at ``blockSize`` tokens per block. The same parameters always give the same workload.
public struct SyntheticWorkload: Hashable, Sendable, Codable {
    /// Requests to generate (the earliest by arrival).
    public var requests = 4_000
    /// Seed of every random draw.
    public var seed: UInt64 = 1
    /// Session starts per second (Poisson).
    public var sessionsPerSecond = 1.2
    /// Share of sessions that are multi-turn conversations (the rest are one-off requests).
    public var conversationShare = 0.6
    /// Mean turns per conversation (geometric, at least 1).
    public var meanTurns = 5.0
    /// Mean seconds between a conversation's turns (exponential).
    public var meanThinkSeconds = 20.0
    /// Distinct shared system prompts.
    public var systemPrompts = 24
    /// Zipf exponent of system prompt popularity.
    public var zipfExponent = 1.1
    /// System prompt length range, tokens.
    public var systemPromptTokens = 500...3_000
    /// User message length range, tokens.
    public var userTokens = 50...1_500
    /// Reply length range, tokens.
    public var outputTokens = 50...600
    /// Tokens per hashed block.
    public var blockSize = 16

    /// The defaults above.
    public init() {}

    /// Throws a message naming the first invalid parameter.
    public func validate() throws(SimulationError) {
        func check(_ ok: Bool, _ message: String) throws(SimulationError) {
            guard ok else { throw SimulationError(message) }
        }
        try check(requests >= 1, "--requests: expected at least 1, found \(requests)")
        try check(
            sessionsPerSecond > 0 && sessionsPerSecond.isFinite,
            "--session-rate: expected a positive number, found \(sessionsPerSecond)"
        )
        try check(
            (0...1).contains(conversationShare),
            "--conversation-share: expected 0...1, found \(conversationShare)"
        )
        try check(meanTurns >= 1 && meanTurns.isFinite, "--mean-turns: expected at least 1, found \(meanTurns)")
        try check(
            meanThinkSeconds >= 0 && meanThinkSeconds.isFinite,
            "--think-seconds: expected a non-negative number, found \(meanThinkSeconds)"
        )
        try check(systemPrompts >= 0, "--system-prompts: expected 0 or more, found \(systemPrompts)")
        try check(
            zipfExponent >= 0 && zipfExponent.isFinite,
            "--zipf: expected a non-negative number, found \(zipfExponent)"
        )
        try check(systemPromptTokens.lowerBound >= 0, "system prompt tokens: expected non-negative lengths")
        try check(userTokens.lowerBound >= 1, "user tokens: expected at least 1")
        try check(outputTokens.lowerBound >= 1, "output tokens: expected at least 1")
        try check(blockSize >= 1, "--hash-block-size: expected at least 1, found \(blockSize)")
    }

    /// Generates the workload.
    ///
    /// - Complexity: O(Σ prompt tokens) time; memory O(requests × blocks per request).
    public func generate() throws(SimulationError) -> Trace {
        try validate()
        let hasher: PrefixHasher
        do {
            hasher = try PrefixHasher(blockSize: blockSize, namespace: HashNamespace(model: "synthetic"))
        } catch {
            throw SimulationError("cannot build the hasher: \(error)")
        }
        var random = RandomSource(seed: seed)
        let zipf = ZipfDistribution(count: systemPrompts, exponent: zipfExponent)
        let promptLengths = (0..<systemPrompts).map { _ in random.uniform(in: systemPromptTokens) }
        var requests: [TraceRequest] = []
        var sessionStart = 0.0
        var session = 0
        while requests.count < self.requests {
            sessionStart += random.exponential(mean: 1 / sessionsPerSecond)
            session += 1
            var tokens: [UInt32] = []
            if let prompt = zipf.sample(&random) {
                tokens += SyntheticWorkload.content(
                    seed: seed,
                    kind: 1,
                    id: UInt64(prompt),
                    count: promptLengths[prompt]
                )
            }
            let isConversation = random.uniform() < conversationShare
            let turns = isConversation ? random.geometric(mean: meanTurns) : 1
            var time = sessionStart
            for turn in 0..<turns {
                let contentID = UInt64(session) << 16 | UInt64(turn)
                tokens += SyntheticWorkload.content(
                    seed: seed,
                    kind: 2,
                    id: contentID,
                    count: random.uniform(in: userTokens)
                )
                let output = random.uniform(in: outputTokens)
                requests.append(
                    TraceRequest(
                        arrival: time,
                        inputTokens: tokens.count,
                        outputTokens: output,
                        blockHashes: hasher.blockHashes(of: tokens),
                        blockSize: blockSize,
                        sessionKey: isConversation ? "session-\(session)" : nil
                    )
                )
                tokens += SyntheticWorkload.content(seed: seed, kind: 3, id: contentID, count: output)
                time += random.exponential(mean: meanThinkSeconds)
            }
        }
        var trace = Trace(requests: requests, format: .synthetic, source: "synthetic", hasPrefixInfo: true)
        trace.requests.removeLast(max(0, trace.requests.count - self.requests))
        return trace
    }

    /// `count` pseudo-random token ids identified by `(seed, kind, id)`: equal identities give equal tokens.
    static func content(seed: UInt64, kind: UInt64, id: UInt64, count: Int) -> [UInt32] {
        var random = RandomSource(seed: seed ^ (kind &* 0x9E37_79B9_7F4A_7C15) ^ (id &* 0xBF58_476D_1CE4_E5B9))
        return (0..<count).map { _ in UInt32(truncatingIfNeeded: random.next() % 128_000) }
    }
}

/// A Zipf distribution over `0..<count` (rank 0 most popular), sampled by inverting its CDF.
struct ZipfDistribution {
    let cumulative: [Double]

    init(count: Int, exponent: Double) {
        var total = 0.0
        var cumulative: [Double] = []
        for rank in 0..<count {
            total += 1 / pow(Double(rank + 1), exponent)
            cumulative.append(total)
        }
        self.cumulative = cumulative.map { $0 / total }
    }

    /// A rank, or nil when the distribution is empty. O(log count).
    func sample(_ random: inout RandomSource) -> Int? {
        guard !cumulative.isEmpty else { return nil }
        let u = random.uniform()
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let mid = (low + high) / 2
            if cumulative[mid] < u { low = mid + 1 } else { high = mid }
        }
        return low
    }
}

extension RandomSource {
    /// A uniform double in [0, 1).
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// A uniform integer in `range`.
    mutating func uniform(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + next(below: range.upperBound - range.lowerBound + 1)
    }

    /// An exponential variate with mean `mean`.
    mutating func exponential(mean: Double) -> Double { -log(1 - uniform()) * mean }

    /// A geometric variate on 1, 2, … with mean `mean` (≥ 1).
    mutating func geometric(mean: Double) -> Int {
        let p = 1 / mean
        var count = 1
        while uniform() >= p, count < 10_000 { count += 1 }
        return count
    }
}
