/// What happened to one request in a run, kept when ``SimulationParameters/recordsRequests`` is on (the bench's
/// `--request-log`): to see which requests make a percentile and why.
public struct RequestRecord: Hashable, Sendable, Codable {
    /// The request's position in the trace (arrival order).
    public var index: Int
    /// Arrival, simulated seconds (after the speed-up).
    public var arrival: Double
    /// When its first token came (the end of its prefill), or −1 if it never did (refused).
    public var firstToken: Double
    /// When it completed, or −1 if it never did.
    public var completion: Double
    /// Prompt tokens.
    public var promptTokens: Int
    /// Tokens its engine found cached at admission (the hit).
    public var cachedTokens: Int
    /// The replica that served it (its position in the fleet), or −1 if refused.
    public var replica: Int
    /// The gateway that placed it.
    public var gateway: Int
    /// Requests prefilled in the step that ended its prefill, itself included: above 1, its last chunk shared
    /// the step's token budget with another request's prefill.
    public var prefillsInLastStep: Int

    /// The time to first token in seconds, or nil if the request never had one.
    public var timeToFirstToken: Double? { firstToken >= 0 ? firstToken - arrival : nil }
}
