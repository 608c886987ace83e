/// One inference request's life on the engine, timed like vLLM: wait for a running slot (priority, then
/// arrival), prefill through the engine's shared queue (`overhead + uncached tokens ÷ prefill rate`), then
/// decode one token every `1 ÷ decode rate`, the first one due when prefill ends.
struct SequenceRun: Sendable {
    let core: EngineCore
    /// The request's arrival number.
    let ticket: Int
    /// vLLM's priority; lower runs first.
    let priority: Int
    let prompt: PromptBlocks
    /// Tokens to generate.
    let maxTokens: Int
    /// The faults in force when the request arrived.
    let faults: MockEngineFaults

    /// Runs the sequence, calling `emit` with each token's index when it is due.
    ///
    /// - Returns: the prompt tokens found in the prefix cache.
    /// - Throws: ``MockFault`` for an injected fault; `CancellationError` when the task is cancelled;
    ///   whatever `emit` throws.
    func stream(emit: (Int) async throws -> Void) async throws -> Int {
        try await withSlot { start in
            let interval = tokenInterval
            for index in 0..<maxTokens {
                if index == faults.dieAfterTokens { throw MockFault.died }
                if index == faults.stallAfterTokens { try await stall() }
                try await Task.sleep(until: start.prefillEnd + interval * index, clock: .continuous)
                try await emit(index)
            }
        }
    }

    /// Runs the sequence without per-token work, waiting until its last token is due.
    ///
    /// - Returns: the prompt tokens found in the prefix cache.
    /// - Throws: ``MockFault`` for an injected fault; `CancellationError` when the task is cancelled.
    func complete() async throws -> Int {
        try await withSlot { start in
            let dieAt = faults.dieAfterTokens.flatMap { $0 < maxTokens ? $0 : nil }
            let stallAt = faults.stallAfterTokens.flatMap { $0 < maxTokens ? $0 : nil }
            let produced = min(maxTokens, dieAt ?? .max, stallAt ?? .max)
            if produced > 0 {
                try await Task.sleep(until: start.prefillEnd + tokenInterval * (produced - 1), clock: .continuous)
            }
            if dieAt == produced { throw MockFault.died }
            if stallAt != nil { try await stall() }
        }
    }

    private var tokenInterval: Duration {
        .seconds(1 / core.configuration.decodeTokensPerSecond)
    }

    /// Holds a running slot around `body`, after the prefill; gives the slot back however `body` ends.
    private func withSlot(_ body: (SequenceStart) async throws -> Void) async throws -> Int {
        try await core.admit(ticket: ticket, priority: priority)
        let start = core.begin(prompt: prompt, maxTokens: maxTokens)
        defer { core.end(start) }
        try await Task.sleep(until: start.prefillEnd, clock: .continuous)
        core.didPrefill(prompt)
        try await body(start)
        return start.cachedTokens
    }

    /// Sends nothing more until the task is cancelled (the client left) or the engine stops.
    private func stall() async throws {
        while !core.stopping {
            try await Task.sleep(for: .milliseconds(50))
        }
        throw MockFault.stoppedWhileStalled
    }
}
