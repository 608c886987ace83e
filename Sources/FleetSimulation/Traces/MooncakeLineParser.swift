@_spi(Internals) import PrefixRouter

/// Mooncake JSONL: `{"timestamp": ms, "input_length": n, "output_length": m, "hash_ids": [...]}`.
///
/// Each hash id stands for a block of ``TraceReadOptions/mooncakeBlockSize`` tokens (512 in the published
/// traces) and is chained: equal ids mean equal prefixes. Ids are dense small integers, which would cluster
/// on a hash ring, so each is mapped to a well-mixed ``BlockHash``: XXH3-64 of its little-endian 64-bit
/// bytes with seed ``idSeed`` (see ``blockHash(ofID:)``).
struct MooncakeLineParser: TraceLineParser {
    /// The seed of the id → hash mapping. Fixed: results must not depend on the run.
    static let idSeed: UInt64 = 0x4D4F_4F4E_4341_4B45  // "MOONCAKE"

    let file: String
    let blockSize: Int

    init(file: String, options: TraceReadOptions) throws(TraceError) {
        try options.validate(file: file)
        self.file = file
        self.blockSize = options.mooncakeBlockSize
    }

    /// The block hash standing for Mooncake id `id`. O(1).
    static func blockHash(ofID id: Int) -> BlockHash {
        withUnsafeBytes(of: UInt64(truncatingIfNeeded: id).littleEndian) { BlockHash(XXH3Hash.hash($0, seed: idSeed)) }
    }

    mutating func parse(_ text: Substring, line: Int, index: Int) throws(TraceError) -> TraceRequest? {
        let json = try JSONLine(text, file: file, line: line)
        guard let timestamp = try json.numberIfPresent("timestamp") else {
            throw json.error("timestamp", expected: "a non-negative number of milliseconds", found: nil)
        }
        let input = try json.integer("input_length", in: 1...100_000_000)
        let output = try json.integer("output_length", in: 0...100_000_000)
        let ids = try json.integers("hash_ids", in: 0...Int(Int64.max), allowEmpty: false)
        let maximumBlocks = (input + blockSize - 1) / blockSize
        guard ids.count <= maximumBlocks else {
            throw json.error(
                "hash_ids",
                expected: "at most ceil(input_length / \(blockSize)) = \(maximumBlocks) ids (is --block-size right?)",
                found: ids
            )
        }
        return TraceRequest(
            arrival: timestamp / 1000,
            inputTokens: input,
            outputTokens: output,
            blockHashes: ids.map(MooncakeLineParser.blockHash(ofID:)),
            blockSize: blockSize
        )
    }
}
