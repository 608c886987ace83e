import Benchmark
import BenchmarkFixtures
import BenchmarkSupport
@_spi(Simulation) import PrefixRouter

// Routing hot path: ring lookups, and route + release for every library strategy with prehashed requests.
//
// Benchmark names have no spaces: package-benchmark 1.38 writes threshold files with spaces replaced by
// underscores but reads them by the raw name, so a name with a space never finds its threshold.
//
// Every benchmark runs 1,000 operations per sample (see BenchmarkDefaults). The stored thresholds
// (Thresholds/) hold 0 mallocs per sample for every route + release benchmark on one task, with no tolerance,
// so `benchmark thresholds check` fails on any new allocation.

/// Requests cycled through by each benchmark (a power of two, so the index is a mask).
let requestCount = 1_024

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = BenchmarkDefaults.configuration(warmupIterations: 10, maxDuration: .seconds(2))

    ringLookupBenchmarks()
    routeReleaseBenchmarks()
    concurrentRouteReleaseBenchmarks()
}

// MARK: Ring lookups

func ringLookupBenchmarks() {
    var random = RandomSource(seed: 0x5249_4E47)
    let keys = (0..<requestCount).map { _ in random.next() }
    let mask = requestCount - 1
    for replicaCount in [4, 64, 1_024] {
        let replicas = Fleets.replicas(replicaCount)
        guard let ring = try? HashRing(members: replicas) else { continue }
        Benchmark("ring-lookup:\(replicaCount)-replicas") { benchmark in
            for iteration in benchmark.scaledIterations {
                blackHole(ring.owner(of: keys[iteration & mask]))
            }
        }

        // The bounded-load walk needs load: background leases placed by prefix affinity.
        let requests = Prompts.prehashedRequests(count: requestCount, seed: UInt64(replicaCount))
        guard let (router, held) = try? Fleets.warmAffinityRouter(replicaCount: replicaCount, requests: requests)
        else { continue }
        Benchmark("bounded-load-lookup:\(replicaCount)-replicas") { benchmark in
            router.withStrategy { fleet, _ in
                for iteration in benchmark.scaledIterations {
                    blackHole(fleet.boundedLoadOwner(of: keys[iteration & mask]))
                }
            }
            blackHole(held)
        }
    }
}

// MARK: Route + release

/// Route + release at 64 replicas, one benchmark per strategy, cycling through prehashed requests.
func routeReleaseBenchmarks() {
    let replicaCount = 64
    let requests = Prompts.prehashedRequests(count: requestCount, sessions: 256, seed: 64)
    let bare = requests.map { RoutingRequest(blockSize: $0.blockSize, tokenCount: $0.tokenCount) }

    func register<Strategy: RoutingStrategy>(_ name: String, _ strategy: Strategy, _ requests: [RoutingRequest]) {
        guard
            let (router, held) = try? Fleets.warmRouter(
                replicaCount: replicaCount,
                strategy: strategy,
                requests: requests,
                backgroundLeases: replicaCount * Fleets.backgroundLeasesPerReplica
            )
        else { return }
        let mask = requests.count - 1
        Benchmark("route+release:\(name):\(replicaCount)-replicas") { benchmark in
            for iteration in benchmark.scaledIterations {
                router.route(requests[iteration & mask])?.lease.release()
            }
            blackHole(held)
        }
    }

    register("RoundRobin", RoundRobin(), requests)
    register("RandomChoice", RandomChoice(seed: 1), requests)
    register("LeastOutstanding", LeastOutstanding(seed: 1), requests)
    register("PowerOfTwoChoices", PowerOfTwoChoices(seed: 1), requests)
    register("Sticky-ring", Sticky(fallback: LeastOutstanding(seed: 1)), requests)
    if let table = try? SessionTable() {
        register("Sticky-table", Sticky(sessionTable: table, fallback: LeastOutstanding(seed: 1), seed: 1), requests)
    }
    if let affinity = try? PrefixAffinity(fallback: LeastOutstanding(seed: 1)) {
        register("PrefixAffinity<LeastOutstanding>", affinity, requests)
        register("PrefixAffinity<LeastOutstanding>-no-prefix-fallback", affinity, bare)
    }
    // A 1,024-block index per replica: the warm-up (1,024 prompts of 128 blocks over 64 replicas) fills every
    // LRU, so the measured routes run in steady state (evicting as they record).
    if let cacheAware = try? CacheAware(capacityPerReplica: 1_024, fallback: LeastOutstanding(seed: 1), seed: 1) {
        register("CacheAware<LeastOutstanding>", cacheAware, requests)
    }
}

/// Route + release from 2 concurrent tasks on one router (lock contention on a 2-core machine).
func concurrentRouteReleaseBenchmarks() {
    let replicaCount = 64
    let requests = Prompts.prehashedRequests(count: requestCount, seed: 2)
    let mask = requestCount - 1
    guard let (router, held) = try? Fleets.warmAffinityRouter(replicaCount: replicaCount, requests: requests)
    else { return }
    // Two child tasks per sample: the task group's own allocations (about 11 per sample) are counted, so the
    // stored threshold is that figure, with a small tolerance for the concurrency runtime.
    Benchmark(
        "route+release:PrefixAffinity<LeastOutstanding>:64-replicas:2-concurrent-tasks",
        configuration: BenchmarkDefaults.configuration(
            warmupIterations: 10,
            thresholds: [.mallocCountTotal: .init(absolute: [.p90: 4])]
        )
    ) { benchmark in
        let perTask = benchmark.scaledIterations.count / 2
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<2 {
                group.addTask {
                    for iteration in 0..<perTask {
                        router.route(requests[(iteration &+ task &* 512) & mask])?.lease.release()
                    }
                }
            }
        }
        blackHole(held)
    }
}
