/// Azure LLM inference CSV: a header naming `TIMESTAMP`, `ContextTokens` and `GeneratedTokens` (any order,
/// case-insensitive), then rows like `2023-11-16 18:17:03.9799600,4808,10`.
///
/// Timestamps are wall-clock `YYYY-MM-DD HH:MM:SS[.fraction]` without a zone; arrivals are seconds since
/// the first row. The trace carries no prefix information: requests have no block hashes, so no strategy
/// can hit the cache and the comparison is about load only.
struct AzureCSVLineParser: TraceLineParser {
    let file: String
    let blockSize: Int
    var columns: (timestamp: Int, context: Int, generated: Int)?
    var origin: Double?

    init(file: String, options: TraceReadOptions) {
        self.file = file
        self.blockSize = max(1, options.hashBlockSize)
    }

    mutating func parse(_ text: Substring, line: Int, index: Int) throws(TraceError) -> TraceRequest? {
        let fields = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingWhitespace }
        guard let columns else {
            let names = fields.map { $0.lowercased() }
            guard let t = names.firstIndex(of: "timestamp"), let c = names.firstIndex(of: "contexttokens"),
                let g = names.firstIndex(of: "generatedtokens")
            else {
                throw TraceError(
                    file: file,
                    line: line,
                    expected: "a header with TIMESTAMP,ContextTokens,GeneratedTokens",
                    found: JSONLine.excerpt(text)
                )
            }
            self.columns = (t, c, g)
            return nil
        }
        let needed = max(columns.timestamp, columns.context, columns.generated) + 1
        guard fields.count >= needed else {
            throw TraceError(
                file: file,
                line: line,
                expected: "\(needed) comma-separated fields",
                found: "\(fields.count)"
            )
        }
        guard let seconds = AzureCSVLineParser.seconds(fromTimestamp: fields[columns.timestamp]) else {
            throw TraceError(
                file: file,
                line: line,
                field: "TIMESTAMP",
                expected: "YYYY-MM-DD HH:MM:SS[.fraction]",
                found: JSONLine.excerpt(fields[columns.timestamp])
            )
        }
        guard let input = Int(fields[columns.context]), input >= 1, input <= 100_000_000 else {
            throw TraceError(
                file: file,
                line: line,
                field: "ContextTokens",
                expected: "an integer in 1...100000000",
                found: JSONLine.excerpt(fields[columns.context])
            )
        }
        guard let output = Int(fields[columns.generated]), output >= 0, output <= 100_000_000 else {
            throw TraceError(
                file: file,
                line: line,
                field: "GeneratedTokens",
                expected: "an integer in 0...100000000",
                found: JSONLine.excerpt(fields[columns.generated])
            )
        }
        let start = origin ?? seconds
        origin = start
        return TraceRequest(
            arrival: max(0, seconds - start),
            inputTokens: input,
            outputTokens: output,
            blockHashes: [],
            blockSize: blockSize
        )
    }

    /// Seconds since 1970-01-01 of a zone-less `YYYY-MM-DD HH:MM:SS[.fraction]`, or nil when malformed.
    static func seconds(fromTimestamp text: Substring) -> Double? {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2 else { return nil }
        let date = parts[0].split(separator: "-", omittingEmptySubsequences: false)
        let time = parts[1].split(separator: ":", omittingEmptySubsequences: false)
        guard date.count == 3, time.count == 3, let year = Int(date[0]), let month = Int(date[1]),
            let day = Int(date[2]), let hour = Int(time[0]), let minute = Int(time[1]),
            let second = Double(time[2]), (1...12).contains(month), (1...31).contains(day), (0...23).contains(hour),
            (0...59).contains(minute), second >= 0, second < 61, (1...9999).contains(year)
        else { return nil }
        return Double(daysFromCivil(year: year, month: month, day: day)) * 86_400 + Double(hour * 3600 + minute * 60)
            + second
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
