@_spi(Internals) import PrefixRouter
import Testing

@testable import _FleetSimulation

@Suite struct TraceParserTests {
    struct Malformed: CustomTestStringConvertible, Sendable {
        var name: String
        var format: TraceFormat?
        var text: String
        /// The 1-based line the error must name.
        var line: Int
        /// The field the error must name (nil: the line as a whole).
        var field: String?
        var testDescription: String { name }
    }

    static let mooncakeOK = #"{"timestamp": 0, "input_length": 600, "output_length": 5, "hash_ids": [0, 1]}"#
    static let tokensOK = #"{"prompt_token_ids": [1, 2, 3], "output_length": 4}"#
    static let openaiOK = #"{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 3}"#
    static let azureHeader = "TIMESTAMP,ContextTokens,GeneratedTokens"
    static let azureOK = "2023-11-16 18:17:03.9799600,4808,10"

    static let malformed: [Malformed] = [
        // Mooncake
        .init(
            name: "mooncake: not JSON",
            format: nil,
            text: mooncakeOK + "\n{\"timestamp\": 1, oops",
            line: 2,
            field: nil
        ),
        .init(
            name: "mooncake: missing timestamp",
            format: nil,
            text: mooncakeOK + "\n" + #"{"input_length": 1, "output_length": 1, "hash_ids": [0]}"#,
            line: 2,
            field: "timestamp"
        ),
        .init(
            name: "mooncake: negative timestamp",
            format: nil,
            text: mooncakeOK + "\n" + #"{"timestamp": -5, "input_length": 1, "output_length": 1, "hash_ids": [0]}"#,
            line: 2,
            field: "timestamp"
        ),
        .init(
            name: "mooncake: string length",
            format: nil,
            text: #"{"timestamp": 0, "input_length": "600", "output_length": 5, "hash_ids": [0, 1]}"#,
            line: 1,
            field: "input_length"
        ),
        .init(
            name: "mooncake: zero length",
            format: nil,
            text: #"{"timestamp": 0, "input_length": 0, "output_length": 5, "hash_ids": [0]}"#,
            line: 1,
            field: "input_length"
        ),
        .init(
            name: "mooncake: boolean output",
            format: nil,
            text: #"{"timestamp": 0, "input_length": 6, "output_length": true, "hash_ids": [0]}"#,
            line: 1,
            field: "output_length"
        ),
        .init(
            name: "mooncake: fractional hash id",
            format: nil,
            text: "\n\n" + #"{"timestamp": 0, "input_length": 600, "output_length": 5, "hash_ids": [0, 1.5]}"#,
            line: 3,
            field: "hash_ids[1]"
        ),
        .init(
            name: "mooncake: negative hash id",
            format: nil,
            text: #"{"timestamp": 0, "input_length": 600, "output_length": 5, "hash_ids": [-1]}"#,
            line: 1,
            field: "hash_ids[0]"
        ),
        .init(
            name: "mooncake: hash_ids not an array",
            format: nil,
            text: #"{"timestamp": 0, "input_length": 600, "output_length": 5, "hash_ids": 3}"#,
            line: 1,
            field: "hash_ids"
        ),
        .init(
            name: "mooncake: too many ids for the block size",
            format: nil,
            text: #"{"timestamp": 0, "input_length": 600, "output_length": 5, "hash_ids": [0, 1, 2]}"#,
            line: 1,
            field: "hash_ids"
        ),
        .init(name: "mooncake: array line", format: .mooncake, text: "[1, 2]", line: 1, field: nil),
        // Tokens
        .init(
            name: "tokens: missing ids",
            format: .tokens,
            text: tokensOK + "\n" + #"{"output_length": 4}"#,
            line: 2,
            field: "prompt_token_ids"
        ),
        .init(
            name: "tokens: empty ids",
            format: nil,
            text: #"{"prompt_token_ids": []}"#,
            line: 1,
            field: "prompt_token_ids"
        ),
        .init(
            name: "tokens: token out of range",
            format: nil,
            text: #"{"input_ids": [1, 4294967296]}"#,
            line: 1,
            field: "input_ids[1]"
        ),
        .init(
            name: "tokens: string token",
            format: nil,
            text: #"{"input_ids": [1, "2"]}"#,
            line: 1,
            field: "input_ids[1]"
        ),
        .init(
            name: "tokens: bad timestamp",
            format: nil,
            text: tokensOK + "\n" + #"{"prompt_token_ids": [1], "timestamp": "soon"}"#,
            line: 2,
            field: "timestamp"
        ),
        .init(
            name: "tokens: bad session",
            format: nil,
            text: #"{"prompt_token_ids": [1], "session_id": [1]}"#,
            line: 1,
            field: "session_id"
        ),
        // OpenAI
        .init(
            name: "openai: no messages or prompt",
            format: .openai,
            text: openaiOK + "\n" + #"{"max_tokens": 3}"#,
            line: 2,
            field: "messages"
        ),
        .init(
            name: "openai: messages not array",
            format: nil,
            text: #"{"messages": "hi"}"#,
            line: 1,
            field: "messages"
        ),
        .init(
            name: "openai: message without role",
            format: nil,
            text: #"{"messages": [{"content": "hi"}]}"#,
            line: 1,
            field: "messages[0].role"
        ),
        .init(
            name: "openai: numeric content",
            format: nil,
            text: #"{"messages": [{"role": "user", "content": 5}]}"#,
            line: 1,
            field: "messages[0].content"
        ),
        .init(
            name: "openai: negative max_tokens",
            format: nil,
            text: #"{"messages": [{"role": "user", "content": "x"}], "max_tokens": -1}"#,
            line: 1,
            field: "max_tokens"
        ),
        .init(name: "openai: prompt object", format: nil, text: #"{"prompt": {"a": 1}}"#, line: 1, field: "prompt"),
        .init(name: "openai: body not object", format: nil, text: #"{"body": 3}"#, line: 1, field: "body"),
        // Azure
        .init(
            name: "azure: bad timestamp",
            format: nil,
            text: azureHeader + "\r\n" + azureOK + "\r\n2023-13-16 18:17:03,1,1\r\n",
            line: 3,
            field: "TIMESTAMP"
        ),
        .init(
            name: "azure: bad context tokens",
            format: nil,
            text: azureHeader + "\n" + azureOK + "\n" + "2023-11-16 18:17:04.0,abc,1",
            line: 3,
            field: "ContextTokens"
        ),
        .init(
            name: "azure: negative generated",
            format: nil,
            text: azureHeader + "\n" + "2023-11-16 18:17:04.0,5,-1",
            line: 2,
            field: "GeneratedTokens"
        ),
        .init(
            name: "azure: missing column",
            format: nil,
            text: azureHeader + "\n" + "2023-11-16 18:17:04.0,5",
            line: 2,
            field: nil
        ),
        .init(
            name: "azure: wrong header",
            format: .azure,
            text: "time,in,out\n2023-11-16 18:17:04.0,5,1",
            line: 1,
            field: nil
        ),
        // Any
        .init(name: "undetectable first line", format: nil, text: "\nhello world\n", line: 2, field: nil),
    ]

    @Test(arguments: malformed)
    func malformedInputNamesFileLineAndField(_ example: Malformed) throws {
        let options = TraceReadOptions(format: example.format)
        let error = try #require(throws: TraceError.self) {
            try TraceReader.parse(text: example.text, file: "trace.jsonl", options: options)
        }
        #expect(error.file == "trace.jsonl")
        #expect(error.line == example.line)
        #expect(error.field == example.field)
        #expect(error.description.hasPrefix("trace.jsonl:\(example.line): "))
        #expect(error.description.contains("expected"))
        #expect(error.description.contains("found"))
    }

    @Test(arguments: ["", "\n\n  \n", "TIMESTAMP,ContextTokens,GeneratedTokens\n"])
    func anEmptyTraceIsAnError(_ text: String) throws {
        let error = try #require(throws: TraceError.self) {
            try TraceReader.parse(text: text, file: "empty.jsonl", options: TraceReadOptions())
        }
        #expect(error.description.contains("at least one"))
    }

    @Test func skipInvalidCountsAndKeepsTheRest() throws {
        let text = [Self.mooncakeOK, "{oops", Self.mooncakeOK, #"{"timestamp": 0}"#].joined(separator: "\n")
        let trace = try TraceReader.parse(text: text, file: "t", options: TraceReadOptions(skipInvalid: true))
        #expect(trace.requests.count == 2)
        #expect(trace.skipped.count == 2)
        #expect(trace.skipped.examples.first?.hasPrefix("t:2: ") == true)
        let allBad = try #require(throws: TraceError.self) {
            try TraceReader.parse(
                text: "{oops\n{oops",
                file: "t",
                options: TraceReadOptions(format: .mooncake, skipInvalid: true)
            )
        }
        #expect(allBad.found.contains("2 invalid lines"))
    }

    @Test func mooncakeLinesBecomeRequests() throws {
        let text = """
            {"timestamp": 3000, "input_length": 1000, "output_length": 7, "hash_ids": [0, 9]}
            {"timestamp": 0, "input_length": 512, "output_length": 1, "hash_ids": [0]}
            """
        let trace = try TraceReader.parse(text: text, file: "t", options: TraceReadOptions())
        #expect(trace.format == .mooncake)
        #expect(trace.hasPrefixInfo)
        // Sorted by arrival; ms → s.
        #expect(trace.requests.map(\.arrival) == [0, 3])
        #expect(trace.requests[1].inputTokens == 1000)
        #expect(trace.requests[1].blockSize == 512)
        // Equal ids map to equal hashes; distinct ids to distinct, well-mixed hashes.
        #expect(trace.requests[0].blockHashes[0] == trace.requests[1].blockHashes[0])
        #expect(trace.requests[1].blockHashes[0] != trace.requests[1].blockHashes[1])
        #expect(trace.requests[0].blockHashes[0].rawValue > 1 << 32)
    }

    @Test func azureRowsAreSecondsSinceTheFirst() throws {
        let text =
            "TIMESTAMP,ContextTokens,GeneratedTokens\r\n2023-11-16 18:17:03.5,100,10\r\n2023-11-16 18:18:04.0,200,20\r\n"
        let trace = try TraceReader.parse(text: text, file: "t", options: TraceReadOptions())
        #expect(trace.format == .azure)
        #expect(!trace.hasPrefixInfo)
        #expect(trace.requests.map(\.arrival) == [0, 60.5])
        #expect(trace.requests.allSatisfy { $0.blockHashes.isEmpty })
        #expect(trace.requests.map(\.inputTokens) == [100, 200])
    }

    @Test func openAIAndTokenLinesShareHashesForSharedPrefixes() throws {
        let system = String(repeating: "You are a careful assistant. ", count: 20)
        let lines = [
            #"{"messages": [{"role": "system", "content": "\#(system)"}, {"role": "user", "content": "first question"}], "max_tokens": 9, "user": "u1"}"#,
            #"{"body": {"messages": [{"role": "system", "content": "\#(system)"}, {"role": "user", "content": "second"}]}, "timestamp": 500}"#,
        ]
        let trace = try TraceReader.parse(text: lines.joined(separator: "\n"), file: "t", options: TraceReadOptions())
        #expect(trace.format == .openai)
        let first = try #require(trace.requests.first { $0.sessionKey == "u1" })
        let second = try #require(trace.requests.first { $0.sessionKey == nil })
        #expect(first.outputTokens == 9)
        #expect(second.arrival == 0.5)
        #expect(first.blockHashes.count > 2)
        #expect(first.blockHashes.prefix(2) == second.blockHashes.prefix(2))

        let tokens = """
            {"prompt_token_ids": [\((0..<40).map(String.init).joined(separator: ","))], "session_id": "a"}
            {"input_ids": [\((0..<35).map(String.init).joined(separator: ","))], "output_length": 3}
            """
        let tokenTrace = try TraceReader.parse(text: tokens, file: "t", options: TraceReadOptions(hashBlockSize: 16))
        #expect(tokenTrace.format == .tokens)
        #expect(tokenTrace.requests.map(\.blockHashes.count) == [2, 2])
        #expect(tokenTrace.requests[0].blockHashes == tokenTrace.requests[1].blockHashes)
        // No timestamps: arrivals at the default rate.
        #expect(tokenTrace.requests.map(\.arrival) == [0, 0.25])
    }

    @Test func gzipInputIsRejectedWithAClearMessage() throws {
        let path = "/tmp/prefixrouter-bench-test-\(UInt64.random(in: 0...UInt64.max)).gz"
        let bytes: [UInt8] = [0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0]
        #expect(FileManagerShim.write(bytes, to: path))
        defer { FileManagerShim.remove(path) }
        let error = try #require(throws: TraceError.self) {
            try TraceReader.read(path: path, options: TraceReadOptions())
        }
        #expect(error.description.contains("gzip"))
    }
}
