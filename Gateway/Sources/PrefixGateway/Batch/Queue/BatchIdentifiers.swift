/// Random identifiers: `file-…`, `batch_…`, `evt_…`, 24 lower-case hex digits (96 random bits).
enum BatchIdentifiers {
    /// 24 random hex digits.
    static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        let high = generator.next() as UInt64
        let low = generator.next() as UInt32
        func hex(_ value: some BinaryInteger, digits: Int) -> String {
            let text = String(value, radix: 16)
            return String(repeating: "0", count: max(0, digits - text.count)) + text
        }
        return hex(high, digits: 16) + hex(low, digits: 8)
    }

    /// `file-…`.
    static func file() -> String { "file-" + random() }
    /// `batch_…`.
    static func batch() -> String { "batch_" + random() }
    /// The `id` of an output line: `batch_req_<line>_<batch suffix>`, stable for the item.
    static func request(batchID: String, line: Int) -> String {
        "batch_req_\(batchID.dropFirst("batch_".count))_\(line)"
    }
}
