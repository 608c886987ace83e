/// How to read a trace file.
public struct TraceReadOptions: Hashable, Sendable, Codable {
    /// The format, or nil to detect it from the content.
    public var format: TraceFormat?
    /// Tokens per Mooncake hash id (the published traces use 512).
    public var mooncakeBlockSize: Int
    /// Tokens per block when hashing token or OpenAI traces (the engine's block size; vLLM's default 16).
    public var hashBlockSize: Int
    /// Skip invalid lines (counting them) instead of stopping at the first one.
    public var skipInvalid: Bool
    /// Output length for requests that do not state one.
    public var defaultOutputTokens: Int
    /// Arrival rate (requests/s) for traces without timestamps: request *i* arrives at *i* / rate.
    public var defaultArrivalRate: Double

    /// Creates options with the defaults described on each property.
    public init(
        format: TraceFormat? = nil,
        mooncakeBlockSize: Int = 512,
        hashBlockSize: Int = 16,
        skipInvalid: Bool = false,
        defaultOutputTokens: Int = 256,
        defaultArrivalRate: Double = 4
    ) {
        self.format = format
        self.mooncakeBlockSize = mooncakeBlockSize
        self.hashBlockSize = hashBlockSize
        self.skipInvalid = skipInvalid
        self.defaultOutputTokens = defaultOutputTokens
        self.defaultArrivalRate = defaultArrivalRate
    }
}
