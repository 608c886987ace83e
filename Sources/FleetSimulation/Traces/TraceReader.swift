import Foundation
import PrefixRouter

/// Reads trace files in any ``TraceFormat`` into a ``Trace``.
///
/// The whole file is read into memory and split into lines (LF or CRLF). Each format's line parser turns a
/// line into a ``TraceRequest`` or throws a ``TraceError`` naming `file:line`, the field, what was expected and
/// what was found. With ``TraceReadOptions/skipInvalid`` the error is counted in ``Trace/skipped`` instead.
/// A trace without any valid request is an error.
///
/// Gzip input is not supported: a file starting with the gzip magic bytes is rejected with a message that
/// says to decompress it first.
public enum TraceReader {
    /// Reads and parses `path`.
    ///
    /// - Complexity: O(file size) plus the hashing of token and OpenAI traces.
    public static func read(path: String, options: TraceReadOptions) throws(TraceError) -> Trace {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw TraceError(file: path, line: 0, expected: "a readable file", found: "\(error.localizedDescription)")
        }
        if data.count >= 2, data[data.startIndex] == 0x1F, data[data.startIndex + 1] == 0x8B {
            throw TraceError(
                file: path,
                line: 0,
                expected: "an uncompressed trace (gzip is not supported: run `gunzip -k` first)",
                found: "gzip-compressed data"
            )
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TraceError(file: path, line: 0, expected: "UTF-8 text", found: "bytes that are not valid UTF-8")
        }
        return try parse(text: text, file: path, options: options)
    }

    /// Parses trace `text` as if read from `file` (the name used in errors).
    public static func parse(text: String, file: String, options: TraceReadOptions) throws(TraceError) -> Trace {
        // "\r\n" is one Character in Swift: split on both explicitly.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        guard let firstIndex = lines.firstIndex(where: { !$0.trimmingWhitespace.isEmpty }) else {
            throw TraceError(file: file, line: 0, expected: "at least one request", found: "an empty file")
        }
        let format: TraceFormat
        if let forced = options.format {
            format = forced
        } else if let detected = TraceFormat.detect(firstLine: lines[firstIndex]) {
            format = detected
        } else {
            throw TraceError(
                file: file,
                line: firstIndex + 1,
                expected: "a Mooncake, token or OpenAI JSON line or an Azure CSV header (or pass --format)",
                found: JSONLine.excerpt(lines[firstIndex])
            )
        }
        var parser: any TraceLineParser
        switch format {
        case .mooncake: parser = try MooncakeLineParser(file: file, options: options)
        case .tokens: parser = try TokenLineParser(file: file, options: options)
        case .openai: parser = try OpenAILineParser(file: file, options: options)
        case .azure: parser = AzureCSVLineParser(file: file, options: options)
        case .synthetic:
            throw TraceError(file: file, line: 0, field: "--format", expected: "a file format", found: "synthetic")
        }
        var requests: [TraceRequest] = []
        var skipped = SkippedLines()
        for (offset, line) in lines.enumerated() {
            let content = line.trimmingWhitespace
            if content.isEmpty { continue }
            do {
                if let request = try parser.parse(content, line: offset + 1, index: requests.count) {
                    requests.append(request)
                }
            } catch {
                guard options.skipInvalid else { throw error }
                skipped.record(error)
            }
        }
        guard !requests.isEmpty else {
            let reason = skipped.count > 0 ? "no valid request (\(skipped.count) invalid lines skipped)" : "no request"
            throw TraceError(file: file, line: 0, expected: "at least one valid request", found: reason)
        }
        return Trace(
            requests: requests,
            format: format,
            source: file,
            hasPrefixInfo: format != .azure,
            skipped: skipped
        )
    }
}

/// Turns one non-empty line of a trace into a request (nil for lines that carry none, such as a CSV header).
protocol TraceLineParser {
    /// Parses `line` (already trimmed); `index` is the number of requests read so far.
    mutating func parse(_ line: Substring, line number: Int, index: Int) throws(TraceError) -> TraceRequest?
}

extension TraceReadOptions {
    /// The arrival time of the `index`-th request of a trace without timestamps.
    func defaultArrival(index: Int) -> Double { Double(index) / defaultArrivalRate }

    func validate(file: String) throws(TraceError) {
        guard mooncakeBlockSize >= 1 else {
            throw TraceError(
                file: file,
                line: 0,
                field: "--block-size",
                expected: "at least 1",
                found: "\(mooncakeBlockSize)"
            )
        }
        guard hashBlockSize >= 1 else {
            throw TraceError(
                file: file,
                line: 0,
                field: "--hash-block-size",
                expected: "at least 1",
                found: "\(hashBlockSize)"
            )
        }
        guard defaultArrivalRate > 0, defaultArrivalRate.isFinite else {
            throw TraceError(
                file: file,
                line: 0,
                field: "--rate",
                expected: "a positive rate",
                found: "\(defaultArrivalRate)"
            )
        }
    }
}

/// One ``PrefixHasher`` per model name (the model scopes the hashes, as engines do), made on first use.
struct HasherCache {
    let blockSize: Int
    let file: String
    private var hashers: [String: PrefixHasher] = [:]

    init(blockSize: Int, file: String) {
        self.blockSize = blockSize
        self.file = file
    }

    /// The hasher for `model`, or a ``TraceError`` naming `line` when it cannot be made.
    mutating func hasher(for model: String?, line: Int) throws(TraceError) -> PrefixHasher {
        if let cached = hashers[model ?? ""] { return cached }
        let made: PrefixHasher
        do {
            made = try PrefixHasher(blockSize: blockSize, namespace: HashNamespace(model: model ?? ""))
        } catch {
            throw TraceError(
                file: file,
                line: line,
                field: "block size",
                expected: "a valid block size",
                found: "\(error)"
            )
        }
        hashers[model ?? ""] = made
        return made
    }
}
