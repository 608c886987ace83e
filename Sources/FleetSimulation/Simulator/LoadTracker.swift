/// Outstanding requests per replica over simulated time: the time-averaged max/mean ratio and the peak.
///
/// - Complexity: O(replicas) per change (the maximum is recomputed), fine for the fleets simulated here.
struct LoadTracker {
    private(set) var outstanding: [Int]
    private var last: Double
    private var areaOfMax = 0.0
    private var areaOfTotal = 0.0
    private var currentMax = 0
    private var total = 0
    private(set) var peak = 0

    init(replicas: Int, start: Double) {
        outstanding = Array(repeating: 0, count: replicas)
        last = start
    }

    mutating func change(_ replica: Int, by delta: Int, at time: Double) {
        let span = time - last
        if span > 0 {
            areaOfMax += span * Double(currentMax)
            areaOfTotal += span * Double(total)
            last = time
        }
        outstanding[replica] += delta
        total += delta
        currentMax = outstanding.max() ?? 0
        peak = max(peak, currentMax)
    }

    /// Time-averaged max over replicas ÷ time-averaged mean (1 when the fleet was never loaded).
    var imbalance: Double {
        guard areaOfTotal > 0 else { return 1 }
        return areaOfMax / (areaOfTotal / Double(outstanding.count))
    }
}
