import PrefixRouter

/// Token JSONL: `{"prompt_token_ids": [...]}` or `{"input_ids": [...]}`, with optional `timestamp` (ms),
/// `output_length`, `session_id` and `model` (which scopes the hashes, as engines do).
///
/// Tokens are hashed with ``PrefixHasher`` at ``TraceReadOptions/hashBlockSize`` tokens per block; the
/// partial tail block is not hashed (engines do not cache it). Missing timestamps arrive at
/// ``TraceReadOptions/defaultArrivalRate``.
struct TokenLineParser: TraceLineParser {
    let file: String
    let options: TraceReadOptions
    var hashers: HasherCache

    init(file: String, options: TraceReadOptions) throws(TraceError) {
        try options.validate(file: file)
        self.file = file
        self.options = options
        self.hashers = HasherCache(blockSize: options.hashBlockSize, file: file)
    }

    mutating func parse(_ text: Substring, line: Int, index: Int) throws(TraceError) -> TraceRequest? {
        let json = try JSONLine(text, file: file, line: line)
        let key = json.has("prompt_token_ids") ? "prompt_token_ids" : "input_ids"
        guard json.has(key) else {
            throw json.error("prompt_token_ids", expected: "an array of token ids (or input_ids)", found: nil)
        }
        let tokens = try json.integers(key, in: 0...Int(UInt32.max), allowEmpty: false)
        let timestamp = try json.numberIfPresent("timestamp")
        let output = try json.integerIfPresent("output_length", in: 0...100_000_000) ?? options.defaultOutputTokens
        let session = try json.stringIfPresent("session_id")
        let model = try json.stringIfPresent("model")
        let hasher = try hashers.hasher(for: model, line: line)
        let hashes: [BlockHash]
        do {
            hashes = try hasher.blockHashes(of: tokens)
        } catch {
            throw TraceError(
                file: file,
                line: line,
                field: key,
                expected: "token ids in 0...\(UInt32.max)",
                found: "\(error)"
            )
        }
        return TraceRequest(
            arrival: timestamp.map { $0 / 1000 } ?? options.defaultArrival(index: index),
            inputTokens: tokens.count,
            outputTokens: output,
            blockHashes: hashes,
            blockSize: options.hashBlockSize,
            sessionKey: session
        )
    }
}
