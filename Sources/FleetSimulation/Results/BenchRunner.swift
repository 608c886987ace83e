/// Runs a set of strategies over one trace and assembles the ``RunReport``.
public enum BenchRunner {
    /// Replays `trace` through every entry of `strategies` with `parameters`.
    ///
    /// - Parameters:
    ///   - synthetic: the generator's parameters when `trace` is the built-in workload (recorded in the report).
    ///   - readOptions: how the trace file was read (recorded in the report).
    ///   - gatewayAssignments: with more than one gateway, each strategy runs once per assignment listed (default:
    ///   the parameters' own).
    ///   - progress: called with (strategy name, share done) now and then.
    /// - Throws: ``SimulationError`` for invalid parameters or a trace that cannot be simulated.
    public static func run(
        trace: Trace,
        parameters: SimulationParameters,
        strategies: [StrategyCatalog.Entry],
        synthetic: SyntheticWorkload? = nil,
        readOptions: TraceReadOptions? = nil,
        gatewayAssignments: [SimulationParameters.GatewayAssignment]? = nil,
        progress: ((String, Double) -> Void)? = nil
    ) throws -> RunReport {
        try parameters.validate()
        let input = try SimulationInput(trace: trace, speedup: parameters.speedup)
        let oracle = Oracle(requests: trace.requests)
        var results: [StrategyResult] = []
        let assignments: [SimulationParameters.GatewayAssignment?] =
            parameters.gateways > 1 ? (gatewayAssignments ?? [parameters.gatewayAssignment]).map { $0 } : [nil]
        for entry in strategies {
            for assignment in assignments {
                var own = parameters
                if let assignment { own.gatewayAssignment = assignment }
                let report: ((Double) -> Void)? = progress.map { callback in { callback(entry.name, $0) } }
                results.append(try entry.run(input: input, parameters: own, oracle: oracle, progress: report))
            }
        }
        let capacity = parameters.cacheCapacity(blockSize: input.blockSize)
        let workload = RunReport.Workload(
            source: trace.source,
            format: trace.format,
            requests: trace.requests.count,
            hasPrefixInfo: trace.hasPrefixInfo,
            blockSize: input.blockSize,
            cacheBlocks: capacity == Int.max ? nil : capacity,
            skippedLines: trace.skipped.count,
            skippedExamples: trace.skipped.examples,
            synthetic: synthetic,
            readOptions: readOptions,
            spanSeconds: (input.arrivals.last ?? 0) - (input.arrivals.first ?? 0)
        )
        return RunReport(
            workload: workload,
            parameters: parameters,
            oracle: oracle,
            references: ReferenceLines(requests: trace.requests, parameters: parameters),
            strategies: results
        )
    }
}
