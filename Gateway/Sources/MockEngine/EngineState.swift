/// Everything an engine mutates, kept in one value behind one lock (``EngineCore``).
struct EngineState: Sendable {
    var received = 0
    var completed = 0
    var cancelled = 0
    var failed = 0
    var prefixQueries = 0
    var prefixHits = 0
    /// KV blocks reserved by running sequences (prompt plus maximal output).
    var activeBlocks = 0
    var cache: PrefixCache
    var slots: SlotScheduler
    /// When the shared prefill queue is next free: a prefill starts at the later of this and its admission.
    var prefillFreeAt: ContinuousClock.Instant = .now
    var faults: MockEngineFaults
    var healthy = true
    var stopping = false
    var history: [MockRequestRecord] = []
    var admissionOrder: [Int] = []

    init(configuration: MockEngineConfiguration) {
        cache = PrefixCache(capacity: configuration.cacheBlocks)
        slots = SlotScheduler(maxRunning: configuration.maxRunning)
        faults = configuration.faults
    }
}

/// How an inference request ended, for the counters.
enum RequestOutcome: Sendable {
    /// Answered in full.
    case completed
    /// The client went away first.
    case cancelled
    /// Answered with an error status, or cut or ended by a fault.
    case failed
}
