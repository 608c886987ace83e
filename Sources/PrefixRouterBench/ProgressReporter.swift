import Foundation

/// Progress on standard error, only when it is a terminal (never in pipes, files or CI logs).
final class ProgressReporter {
    private var lastLine = ""

    /// A reporter, or nil when standard error is not a terminal.
    static func forStandardError() -> ProgressReporter? {
        isatty(STDERR_FILENO) != 0 ? ProgressReporter() : nil
    }

    func report(_ strategy: String, _ share: Double) {
        let line = "\r\(strategy): \(Int(share * 100))%"
        guard line != lastLine else { return }
        lastLine = line
        FileHandle.standardError.write(Data((line + "\u{1B}[K").utf8))
    }

    func finish() {
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
