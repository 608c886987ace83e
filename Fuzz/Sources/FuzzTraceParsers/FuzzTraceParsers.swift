import _FleetSimulation

/// libFuzzer entry point: feeds the input to every trace parser, detected and forced, stopping at the first
/// error and skipping invalid lines. Any crash, trap or sanitizer report is a bug: bad input must only
/// ever produce a `TraceError`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTraceParsers(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let formats: [TraceFormat?] = [nil, .mooncake, .tokens, .openai, .azure]
    for format in formats {
        for skipInvalid in [false, true] {
            let options = TraceReadOptions(
                format: format,
                mooncakeBlockSize: 16,
                hashBlockSize: 4,
                skipInvalid: skipInvalid
            )
            if let trace = try? TraceReader.parse(text: text, file: "fuzz", options: options) {
                // A parsed trace must be replayable: its arrivals finite and sorted.
                var previous = -Double.infinity
                for request in trace.requests {
                    precondition(
                        request.arrival.isFinite && request.arrival >= previous,
                        "unsorted or non-finite arrival"
                    )
                    precondition(request.inputTokens >= 1 && request.outputTokens >= 0, "invalid lengths")
                    previous = request.arrival
                }
            }
        }
    }
    return 0
}

/// libFuzzer's driver (exported by the fuzzer runtime since LLVM 11).
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// SwiftPM links executables with `main` renamed to `<module>_main`, so libFuzzer's own `main` is never
/// pulled in: start its driver from here.
@_cdecl("FuzzTraceParsers_main")
func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return runFuzzerDriver(&count, &arguments) { data, size in
        guard let data else { return 0 }
        return fuzzTraceParsers(data, size)
    }
}
