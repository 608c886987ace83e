import ArgumentParser
import Foundation
import _FleetSimulation

/// `PrefixRouterBench`: replays a trace (or the built-in synthetic workload) through a simulated fleet once
/// per routing strategy and prints a comparison table.
@main
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "PrefixRouterBench",
        abstract: "Compare routing strategies by replaying a prompt trace through a simulated inference fleet.",
        discussion: """
            Without --trace, runs the built-in synthetic workload (deterministic for --seed). Trace formats: \
            Mooncake JSONL, token JSONL, OpenAI request JSONL, Azure CSV (detected from content, or --format). \
            Gzip input is not supported: decompress first.
            """
    )

    @Option(name: .long, help: "Trace file to replay (default: the built-in synthetic workload).")
    var trace: String?

    @Option(name: .long, help: "Trace format: mooncake, tokens, openai, azure (default: detect from content).")
    var format: String?

    @Flag(name: .long, help: "Count and report invalid trace lines instead of stopping at the first.")
    var skipInvalid = false

    @Option(name: .long, help: "Tokens per Mooncake hash id.")
    var blockSize = 512

    @Option(name: .long, help: "Tokens per block when hashing token/OpenAI traces and the synthetic workload.")
    var hashBlockSize = 16

    @Option(name: .long, help: "Output tokens for trace requests that do not state them.")
    var defaultOutputTokens = 256

    @Option(name: .long, help: "Arrival rate (requests/s) for traces without timestamps.")
    var rate = 4.0

    @Option(name: .long, help: "Comma-separated strategy names (default: all). See --list-strategies.")
    var strategies: String?

    @Flag(name: .long, help: "List the strategies and exit.")
    var listStrategies = false

    // Fleet.
    @Option(name: .long, help: "Replicas.") var replicas = 8
    @Option(name: .long, help: "KV cache per replica in tokens (sets the cache size unless --cache-blocks).")
    var kvCacheTokens = 420_000
    @Option(name: .long, help: "KV cache per replica in blocks of the trace's block size (0 = unbounded).")
    var cacheBlocks: Int?
    @Option(name: .long, help: "Prefill tokens/s per replica (uncached tokens).") var prefillRate = 10_000.0
    @Option(name: .long, help: "Fixed cost of a prefill step, ms.") var prefillOverheadMs = 10.0
    @Option(name: .long, help: "Fixed cost of a decode step, ms.") var decodeStepMs = 8.0
    @Option(name: .long, help: "Decode step cost per context token of the running batch, ns.")
    var decodeNsPerToken = 64.0
    @Option(name: .long, help: "Largest running batch per replica.") var maxBatch = 256
    @Option(name: .long, help: "Most uncached tokens prefilled in one step.") var prefillBatchTokens = 8_192
    @Option(name: .long, help: "Bounded-load factor c of every router.") var loadFactor = 1.25
    @Option(name: .long, help: "Ring points per replica.") var vnodes = 160
    @Option(name: .long, help: "Bounded-load capacity floor per replica (requests) of every router.")
    var minCapacity = 1
    @Option(name: .long, help: "Key depth in tokens of the prefix-affinity and consistent-hash lines.")
    var keyDepth = 2_048
    @Option(name: .long, help: "Divide arrival times by this.") var speedup = 1.0
    @Option(name: .long, help: "Seed of strategies' random choices and of the synthetic workload.") var seed: UInt64 = 1
    @Flag(name: .long, help: "Remove a replica at 40% of the trace and re-add it at 60%; report keys moved.")
    var churn = false
    @Flag(name: .long, help: "Do not measure ns per route call (makes --json byte-identical across runs).")
    var noTiming = false
    @Option(name: .long, help: "Independent routers (gateways), each knowing only its own decisions (1...64).")
    var gateways = 1
    @Option(
        name: .long,
        help:
            "With --gateways > 1: request (seeded random), session (keep-alive: a session's requests to one gateway), or both."
    )
    var gatewayAssignment = "both"
    @Option(name: .long, help: "Share each decision with the other gateways after this many ms (default: no sharing).")
    var syncDelayMs: Double?
    @Option(
        name: .long,
        help:
            "Write one CSV row per request and strategy (arrival, TTFT, hit, replica, shared prefill step) to this file."
    )
    var requestLog: String?
    @Option(
        name: .long,
        help:
            "Report each completed request's blocks again to the router that placed it when its TTFT was at most this many seconds (inf: always), for every line; without it only recommended does, at 30 s (recommended-no-release: never)."
    )
    var placementAtRelease: Double?
    @Flag(name: .long, help: "At each first token, report the engine's cached tokens to the router that placed it.")
    var cachedTokensFeedback = false
    @Option(name: .long, help: "Scrape every engine's metrics (waiting, running, KV usage) every this many ms.")
    var metricsIntervalMs = 50.0

    // Synthetic workload.
    @Option(name: .long, help: "Synthetic: requests.") var requests = 4_000
    @Option(name: .long, help: "Synthetic: session starts per second (Poisson).") var sessionRate = 1.2
    @Option(name: .long, help: "Synthetic: share of sessions that are conversations.") var conversationShare = 0.6
    @Option(name: .long, help: "Synthetic: mean turns per conversation.") var meanTurns = 5.0
    @Option(name: .long, help: "Synthetic: mean seconds between turns.") var thinkSeconds = 20.0
    @Option(name: .long, help: "Synthetic: shared system prompts.") var systemPrompts = 24
    @Option(name: .long, help: "Synthetic: Zipf exponent of system prompt popularity.") var zipf = 1.1

    // Output.
    @Option(name: .long, help: "Write the full report as JSON to this file.") var json: String?
    @Option(name: .long, help: "Write one CSV row per strategy to this file.") var csv: String?

    mutating func run() throws {
        if listStrategies {
            for entry in StrategyCatalog.all {
                print("\(entry.name.padding(toLength: 22, withPad: " ", startingAt: 0)) \(entry.summary)")
            }
            return
        }
        let selected = try selectedStrategies()
        var parameters = SimulationParameters()
        parameters.replicas = replicas
        parameters.kvCacheTokens = kvCacheTokens
        parameters.cacheBlocks = cacheBlocks
        parameters.prefillTokensPerSecond = prefillRate
        parameters.prefillOverheadSeconds = prefillOverheadMs / 1000
        parameters.decodeStepSeconds = decodeStepMs / 1000
        parameters.decodeSecondsPerContextToken = decodeNsPerToken / 1e9
        parameters.maxRunningRequests = maxBatch
        parameters.prefillBatchTokens = prefillBatchTokens
        parameters.loadFactor = loadFactor
        parameters.virtualNodes = vnodes
        parameters.keyDepthTokens = keyDepth
        parameters.reportsCachedTokens = cachedTokensFeedback
        parameters.recordsRequests = requestLog != nil
        parameters.placementAtReleaseMaxTTFT = placementAtRelease
        parameters.minimumCapacity = minCapacity
        parameters.speedup = speedup
        parameters.seed = seed
        parameters.churn = churn
        parameters.measureRoutingCost = !noTiming
        parameters.gateways = gateways
        parameters.syncDelaySeconds = syncDelayMs.map { $0 / 1000 }
        parameters.metricsIntervalSeconds = metricsIntervalMs / 1000
        let assignments: [SimulationParameters.GatewayAssignment]
        switch gatewayAssignment {
        case "both": assignments = [.perRequest, .perSession]
        case let name:
            guard let parsed = SimulationParameters.GatewayAssignment(rawValue: name) else {
                throw ValidationError("--gateway-assignment: expected request, session or both, found \(name)")
            }
            assignments = [parsed]
        }
        parameters.gatewayAssignment = assignments[0]
        if syncDelayMs != nil, gateways < 2 {
            throw ValidationError("--sync-delay-ms: needs --gateways 2 or more (one gateway has nobody to share with)")
        }
        do {
            try parameters.validate()
        } catch {
            throw ValidationError(error.message)
        }

        let workload: Trace
        var synthetic: SyntheticWorkload?
        var readOptions: TraceReadOptions?
        if let trace {
            var options = TraceReadOptions()
            if let format {
                guard let parsed = TraceFormat(rawValue: format), parsed != .synthetic else {
                    throw ValidationError("--format: expected mooncake, tokens, openai or azure, found \(format)")
                }
                options.format = parsed
            }
            options.mooncakeBlockSize = blockSize
            options.hashBlockSize = hashBlockSize
            options.skipInvalid = skipInvalid
            options.defaultOutputTokens = defaultOutputTokens
            options.defaultArrivalRate = rate
            readOptions = options
            do {
                workload = try TraceReader.read(path: trace, options: options)
            } catch {
                FileHandle.standardError.write(Data("error: \(error)\n".utf8))
                throw ExitCode(65)
            }
        } else {
            var generator = SyntheticWorkload()
            generator.requests = requests
            generator.seed = seed
            generator.sessionsPerSecond = sessionRate
            generator.conversationShare = conversationShare
            generator.meanTurns = meanTurns
            generator.meanThinkSeconds = thinkSeconds
            generator.systemPrompts = systemPrompts
            generator.zipfExponent = zipf
            generator.blockSize = hashBlockSize
            synthetic = generator
            do {
                workload = try generator.generate()
            } catch {
                throw ValidationError(error.message)
            }
        }

        let progress = ProgressReporter.forStandardError()
        let report = try BenchRunner.run(
            trace: workload,
            parameters: parameters,
            strategies: selected,
            synthetic: synthetic,
            readOptions: readOptions,
            gatewayAssignments: assignments,
            progress: progress.map { reporter in { reporter.report($0, $1) } }
        )
        progress?.finish()
        print(ReportFormatter.table(report), terminator: "")
        if let json { try report.json().write(toFile: json, atomically: true, encoding: .utf8) }
        if let csv { try ReportFormatter.csv(report).write(toFile: csv, atomically: true, encoding: .utf8) }
        if let requestLog {
            try ReportFormatter.requestLog(report).write(toFile: requestLog, atomically: true, encoding: .utf8)
        }
    }

    func selectedStrategies() throws -> [StrategyCatalog.Entry] {
        guard let strategies else { return StrategyCatalog.all }
        return try strategies.split(separator: ",").map { name in
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard let entry = StrategyCatalog.entry(named: trimmed) else {
                let known = StrategyCatalog.all.map(\.name).joined(separator: ", ")
                throw ValidationError("--strategies: unknown strategy '\(trimmed)'; expected one of: \(known)")
            }
            return entry
        }
    }
}
