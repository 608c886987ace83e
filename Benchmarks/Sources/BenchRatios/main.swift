import BenchmarkFixtures
import CXXHashInline
@_spi(Internals) import PrefixRouter

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Measures the benchmarks issue's three target ratios in one process, interleaved, with per-round ratios and
// medians (see RatioRun), and prints them as markdown. Run it through scripts/bench-ratios.
//
//   1. chained hashing bytes/s ÷ one-shot XXH3 bytes/s, 16-token blocks      (target ≥ 0.5)
//   2. the same at 64-token blocks                                           (target ≥ 0.8)
//   3. route + release at 64 replicas ÷ hashing a 2,048-token prompt (time)  (target ≤ 0.25)
//
// Bytes/s ratios are time ratios inverted: chained ÷ one-shot throughput = one-shot time ÷ chained time.
// Also measured: the same hashing with XXH3 compiled inline (XXH_INLINE_ALL), to see what inlining changes.

var rounds = 301
/// For profiling (valgrind): only the workloads whose name contains this, and no report.
var only: String?
/// For profiling: a fixed batch size instead of the calibrated one.
var fixedBatch: Int?
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--rounds":
        guard let value = arguments.popFirst().flatMap(Int.init), value > 0 else {
            print("--rounds: expected a positive integer")
            exit(64)
        }
        rounds = value
    case "--only":
        only = arguments.popFirst()
    case "--batch":
        fixedBatch = arguments.popFirst().flatMap(Int.init)
    default:
        print("usage: BenchRatios [--rounds N] [--only NAME-PART [--batch N]]   (default 301 rounds)")
        exit(argument == "--help" || argument == "-h" ? 0 : 64)
    }
}

let promptSizes = [256, 2_048, 32_768]
let blockSizes = [16, 64]
var workloads: [Workload] = []

// MARK: Hashing workloads

/// PrefixHasher's chain (XXH3 of each block seeded with the previous hash) with the inlined XXH3. A global
/// function, not a closure formed in top-level code: such closures are main-actor isolated and check the
/// executor on every call.
func chainInline(_ bytes: UnsafeRawBufferPointer, chunk: Int, blocks: Int, root: UInt64) -> UInt64 {
    var seed = root
    for block in 0..<blocks {
        seed = cxxhash_inline_xxh3_64(bytes.baseAddress.map { $0 + block * chunk }, chunk, seed)
    }
    return seed
}

/// One prompt's tokens, kept allocated for the whole run.
let promptTokens = Dictionary(
    uniqueKeysWithValues: promptSizes.map { ($0, Prompts.tokens(count: $0, seed: UInt64($0))) }
)
var mismatches: [String] = []

/// 0 in practice, but the optimiser cannot prove it: keeps loop-invariant (inlined, pure) hashing in the loop.
@inline(__always) func opaqueZero(_ sink: UInt64) -> UInt64 { sink == 0x5EED_5EED_5EED_5EED ? 1 : 0 }

for tokenCount in promptSizes {
    let tokens = UnsafeMutableBufferPointer<UInt32>.allocate(capacity: tokenCount)
    _ = tokens.initialize(from: promptTokens[tokenCount] ?? [])
    let bytes = UnsafeRawBufferPointer(tokens)
    workloads.append(
        Workload(name: "oneshot \(tokenCount)") { count in
            var sink: UInt64 = 0
            for _ in 0..<count { sink ^= XXH3Hash.hash(bytes, seed: opaqueZero(sink)) }
            return sink
        }
    )
    workloads.append(
        Workload(name: "oneshot-inline \(tokenCount)") { count in
            var sink: UInt64 = 0
            for _ in 0..<count { sink ^= cxxhash_inline_xxh3_64(bytes.baseAddress, bytes.count, opaqueZero(sink)) }
            return sink
        }
    )
    for blockSize in blockSizes {
        guard let hasher = try? PrefixHasher(blockSize: blockSize) else { continue }
        let blocks = tokenCount / blockSize
        let output = UnsafeMutableBufferPointer<BlockHash>.allocate(capacity: blocks)
        workloads.append(
            Workload(name: "chained \(tokenCount)/\(blockSize)") { count in
                var sink: UInt64 = 0
                for _ in 0..<count {
                    _ = hasher.hashBlocks(UnsafeBufferPointer(tokens), into: output)
                    sink ^= output[blocks - 1].rawValue
                }
                return sink
            }
        )
        // The same chain with the inlined XXH3 (the loop PrefixHasher runs, written out here).
        let root = hasher.namespace.root
        let chunk = blockSize * 4
        let inlineChain = { (perturbation: UInt64) -> UInt64 in
            chainInline(bytes, chunk: chunk, blocks: blocks, root: root ^ perturbation)
        }
        _ = hasher.hashBlocks(UnsafeBufferPointer(tokens), into: output)
        if inlineChain(0) != output[blocks - 1].rawValue {
            mismatches.append("inline chain \(tokenCount)/\(blockSize) differs from PrefixHasher")
        }
        workloads.append(
            Workload(name: "chained-inline \(tokenCount)/\(blockSize)") { count in
                var sink: UInt64 = 0
                for _ in 0..<count { sink ^= inlineChain(opaqueZero(sink)) }
                return sink
            }
        )
    }
}

// MARK: Routing workloads

let replicaCount = 64
let requests = Prompts.prehashedRequests(count: 1_024, sessions: 256, seed: 64)
let requestMask = requests.count - 1

@MainActor func addRouteRelease<Strategy: RoutingStrategy>(_ name: String, _ strategy: Strategy) {
    do {
        let (router, held) = try Fleets.warmRouter(
            replicaCount: replicaCount,
            strategy: strategy,
            requests: requests,
            backgroundLeases: replicaCount * Fleets.backgroundLeasesPerReplica
        )
        workloads.append(
            Workload(name: "route \(name)") { count in
                var sink = UInt64(held.count)
                for iteration in 0..<count {
                    if let decision = router.route(requests[iteration & requestMask]) {
                        sink &+= UInt64(decision.replica.rawValue.utf8.count)
                        decision.lease.release()
                    }
                }
                return sink
            }
        )
    } catch {
        mismatches.append("\(name): router setup failed: \(error)")
    }
}

let strategyNames = [
    "RoundRobin", "RandomChoice", "LeastOutstanding", "PowerOfTwoChoices", "Sticky(ring)",
    "PrefixAffinity<LeastOutstanding>",
]
addRouteRelease("RoundRobin", RoundRobin())
addRouteRelease("RandomChoice", RandomChoice(seed: 1))
addRouteRelease("LeastOutstanding", LeastOutstanding(seed: 1))
addRouteRelease("PowerOfTwoChoices", PowerOfTwoChoices(seed: 1))
addRouteRelease("Sticky(ring)", Sticky(fallback: LeastOutstanding(seed: 1)))
if let affinity = try? PrefixAffinity(fallback: LeastOutstanding(seed: 1)) {
    addRouteRelease("PrefixAffinity<LeastOutstanding>", affinity)
}

// MARK: Run

if let only {
    var selected = RatioRun(workloads.filter { $0.name.contains(only) })
    selected.calibrate(fixedBatch: fixedBatch)
    selected.run(rounds: rounds)
    for workload in selected.workloads {
        print("\(workload.name): \(selected.median(workload.name)) ns (sink \(selected.sink & 1))")
    }
    exit(0)
}

var run = RatioRun(workloads)
run.calibrate()
run.run(rounds: rounds)

func format(_ value: Double, _ digits: Int = 3) -> String {
    var text = String(Double(Int((value * pow(10, Double(digits))).rounded())) / pow(10, Double(digits)))
    if !text.contains(".") { text += ".0" }
    return text
}

/// Throughput ratio chained ÷ one-shot = one-shot time ÷ chained time, per round.
@MainActor func hashingRatio(_ tokens: Int, _ block: Int, inline: Bool = false) -> Statistics.Summary {
    let suffix = inline ? "-inline" : ""
    let summary = run.ratio("oneshot\(suffix) \(tokens)", over: "chained\(suffix) \(tokens)/\(block)")
    return summary
}

func line(_ summary: Statistics.Summary) -> String {
    "\(format(summary.median)) (IQR \(format(summary.p25))–\(format(summary.p75)))"
}

func verdict(_ value: Double, atLeast target: Double) -> String { value >= target ? "met" : "MISSED" }
func verdict(_ value: Double, atMost target: Double) -> String { value <= target ? "met" : "MISSED" }

let hash16 = hashingRatio(2_048, 16)
let hash64 = hashingRatio(2_048, 64)
let routeName = "route PrefixAffinity<LeastOutstanding>"
let route = run.ratio(routeName, over: "chained 2048/16")
let worstRoute =
    strategyNames.map { run.ratio("route \($0)", over: "chained 2048/16") }.max { $0.median < $1.median }
    ?? route

print("## Target ratios (one run, \(rounds) interleaved rounds, per-round ratios, median and IQR)")
print("")
print("| Ratio | Measured | Target | |")
print("|---|---|---|---|")
print(
    "| chained ÷ one-shot XXH3 bytes/s, 2,048 tokens, 16-token blocks | \(line(hash16)) | ≥ 0.5 | \(verdict(hash16.median, atLeast: 0.5)) |"
)
print(
    "| chained ÷ one-shot XXH3 bytes/s, 2,048 tokens, 64-token blocks | \(line(hash64)) | ≥ 0.8 | \(verdict(hash64.median, atLeast: 0.8)) |"
)
print(
    "| route+release (PrefixAffinity<LeastOutstanding>, 64 replicas) ÷ hashing 2,048 tokens (16-token blocks) | \(line(route)) | ≤ 0.25 | \(verdict(route.median, atMost: 0.25)) |"
)
print(
    "| route+release, slowest library strategy ÷ hashing 2,048 tokens | \(line(worstRoute)) | ≤ 0.25 | \(verdict(worstRoute.median, atMost: 0.25)) |"
)
print("")
print("## Hashing (median ns per prompt; GB/s = bytes ÷ ns)")
print("")
print(
    "| Prompt | Block | one-shot XXH3 | chained | chained ÷ one-shot (bytes/s) | inline one-shot | inline chained | inline chained ÷ inline one-shot | chained: inline ÷ library (bytes/s) |"
)
print("|---|---|---|---|---|---|---|---|---|")
for tokens in promptSizes {
    for block in blockSizes {
        let oneShot = run.median("oneshot \(tokens)")
        let chained = run.median("chained \(tokens)/\(block)")
        let oneShotInline = run.median("oneshot-inline \(tokens)")
        let chainedInline = run.median("chained-inline \(tokens)/\(block)")
        let bytes = Double(tokens * 4)
        let speedup = run.ratio("chained \(tokens)/\(block)", over: "chained-inline \(tokens)/\(block)")
        print(
            "| \(tokens) tokens | \(block) | \(format(oneShot, 1)) ns (\(format(bytes / oneShot, 2)) GB/s) "
                + "| \(format(chained, 1)) ns (\(format(bytes / chained, 2)) GB/s) | \(line(hashingRatio(tokens, block))) "
                + "| \(format(oneShotInline, 1)) ns | \(format(chainedInline, 1)) ns "
                + "| \(line(hashingRatio(tokens, block, inline: true))) | \(line(speedup)) |"
        )
    }
}
print("")
print("## Route + release, 64 replicas, prehashed 2,048-token requests (median ns)")
print("")
print("| Strategy | ns per route+release | ÷ hashing 2,048 tokens |")
print("|---|---|---|")
for name in strategyNames {
    print(
        "| \(name) | \(format(run.median("route \(name)"), 1)) | \(line(run.ratio("route \(name)", over: "chained 2048/16"))) |"
    )
}
print("")
print("(sink \(run.sink & 0xF))")
if !mismatches.isEmpty {
    for mismatch in mismatches { print("error: \(mismatch)") }
    exit(1)
}
