import NIOConcurrencyHelpers

/// The engine's shared state and its operations, each one short critical section under one lock.
final class EngineCore: Sendable {
    /// The most admission-order entries kept.
    static let admissionOrderLimit = 1_000

    let configuration: MockEngineConfiguration
    private let state: NIOLockedValueBox<EngineState>

    init(configuration: MockEngineConfiguration) {
        self.configuration = configuration
        self.state = NIOLockedValueBox(EngineState(configuration: configuration))
    }

    // MARK: Faults and health

    var faults: MockEngineFaults {
        get { state.withLockedValue { $0.faults } }
        set { state.withLockedValue { $0.faults = newValue } }
    }

    var healthy: Bool {
        get { state.withLockedValue { $0.healthy } }
        set { state.withLockedValue { $0.healthy = newValue } }
    }

    /// Set once the engine stops; stalled responses end when they see it.
    var stopping: Bool {
        get { state.withLockedValue { $0.stopping } }
        set { state.withLockedValue { $0.stopping = newValue } }
    }

    // MARK: Requests

    /// Counts an arriving inference request and returns its arrival number.
    func receive() -> Int {
        state.withLockedValue { state in
            state.received += 1
            return state.received
        }
    }

    /// Keeps a request in the bounded history.
    func record(_ record: MockRequestRecord) {
        let limit = configuration.requestHistory
        guard limit > 0 else { return }
        state.withLockedValue { state in
            if state.history.count >= limit { state.history.removeFirst(state.history.count - limit + 1) }
            state.history.append(record)
        }
    }

    /// Counts how a request ended.
    func finish(_ outcome: RequestOutcome) {
        state.withLockedValue { state in
            switch outcome {
            case .completed: state.completed += 1
            case .cancelled: state.cancelled += 1
            case .failed: state.failed += 1
            }
        }
    }

    // MARK: Scheduling

    /// Waits for a running slot, in priority then arrival order. Throws `CancellationError` if the task is
    /// cancelled while waiting; the caller then holds no slot.
    func admit(ticket: Int, priority: Int) async throws {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let waiter = SlotScheduler.Waiter(ticket: ticket, priority: priority, continuation: continuation)
                let admitted: Bool? = state.withLockedValue { state in
                    // Checked under the lock: a cancellation handler that ran before this found nothing to remove.
                    if Task.isCancelled { return nil }
                    let admitted = state.slots.admitOrEnqueue(waiter)
                    if admitted { state.noteAdmission(ticket) }
                    return admitted
                }
                switch admitted {
                case nil: continuation.resume(throwing: CancellationError())
                case true?: continuation.resume()
                case false?: break
                }
            }
        } onCancel: {
            let removed = state.withLockedValue { $0.slots.removeWaiter(ticket: ticket) }
            removed?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Starts an admitted sequence: looks its prompt up in the prefix cache, reserves its KV blocks and
    /// its turn in the prefill queue. Pair with ``end(_:)``.
    func begin(prompt: PromptBlocks, maxTokens: Int) -> SequenceStart {
        let tokensPerBlock = configuration.prefixBlockCharacters / 4
        let blockBytes = configuration.prefixBlockCharacters
        let reserved = (prompt.tokens * 4 + maxTokens * 4 + blockBytes - 1) / blockBytes
        return state.withLockedValue { state in
            let matched = state.cache.matchPrefix(prompt.hashes)
            let cachedTokens = min(matched * tokensPerBlock, prompt.tokens)
            state.prefixQueries += prompt.tokens
            state.prefixHits += cachedTokens
            state.activeBlocks += reserved
            let uncached = Double(prompt.tokens - cachedTokens)
            let duration = configuration.prefillOverhead + .seconds(uncached / configuration.prefillTokensPerSecond)
            let start = max(ContinuousClock.now, state.prefillFreeAt)
            state.prefillFreeAt = start + duration
            return SequenceStart(cachedTokens: cachedTokens, prefillEnd: start + duration, reservedBlocks: reserved)
        }
    }

    /// Records a finished prefill: the prompt's blocks are now cached.
    func didPrefill(_ prompt: PromptBlocks) {
        state.withLockedValue { $0.cache.insert(prompt.hashes) }
    }

    /// Ends a sequence begun with ``begin(prompt:maxTokens:)``: frees its blocks and hands its slot on.
    func end(_ start: SequenceStart) {
        let next = state.withLockedValue { state in
            state.activeBlocks -= start.reservedBlocks
            let next = state.slots.release()
            if let next { state.noteAdmission(next.ticket) }
            return next
        }
        next?.continuation.resume()
    }

    // MARK: Observation

    /// The gauges and counters `/metrics` exposes, without copying the request history.
    var metrics: EngineMetrics {
        let capacity = configuration.cacheBlocks
        return state.withLockedValue { state in
            EngineMetrics(
                running: state.slots.running,
                waiting: state.slots.waiting,
                kvCacheUsage: capacity > 0 ? min(1, Double(state.activeBlocks) / Double(capacity)) : 0,
                prefixCacheQueries: state.prefixQueries,
                prefixCacheHits: state.prefixHits
            )
        }
    }

    /// A consistent snapshot of the counters.
    var stats: MockEngineStats {
        let capacity = configuration.cacheBlocks
        return state.withLockedValue { state in
            MockEngineStats(
                requestsReceived: state.received,
                requestsCompleted: state.completed,
                requestsCancelled: state.cancelled,
                requestsFailed: state.failed,
                running: state.slots.running,
                waiting: state.slots.waiting,
                prefixCacheQueries: state.prefixQueries,
                prefixCacheHits: state.prefixHits,
                cachedBlocks: state.cache.count,
                kvCacheUsage: capacity > 0 ? min(1, Double(state.activeBlocks) / Double(capacity)) : 0,
                healthy: state.healthy,
                recentRequests: state.history,
                admissionOrder: state.admissionOrder
            )
        }
    }
}

/// What ``EngineCore/begin(prompt:maxTokens:)`` decided for a sequence.
struct SequenceStart: Sendable {
    /// Prompt tokens found in the prefix cache.
    let cachedTokens: Int
    /// When the sequence's prefill ends, i.e. when its first token is due.
    let prefillEnd: ContinuousClock.Instant
    /// KV blocks reserved until the sequence ends.
    let reservedBlocks: Int
}

extension EngineState {
    fileprivate mutating func noteAdmission(_ ticket: Int) {
        if admissionOrder.count >= EngineCore.admissionOrderLimit { admissionOrder.removeFirst() }
        admissionOrder.append(ticket)
    }
}
