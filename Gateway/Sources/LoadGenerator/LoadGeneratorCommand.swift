import ArgumentParser
import NIOCore
import NIOHTTP1
import NIOPosix
import ProcessLimits

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `load-generator`: holds N concurrent streamed chat completions against one or more targets (a gateway,
/// nginx, or the engines themselves) and reports errors by kind and time to first byte.
///
/// Streams open at `--rate` per second, round-robin over the targets and over `--sources` loopback source
/// addresses (127.0.0.2, 127.0.0.3, …, so that TIME_WAIT does not exhaust one address's ports). The ramp
/// pauses at each `--checkpoint` count and at N: once every opened stream has its first byte (or failed), it
/// prints `CHECKPOINT <count> streaming=<n> …` and holds for `--hold` seconds, so that a script can sample
/// the proxy's memory with exactly that many streams open. Then it waits for every stream to end, and
/// prints one `RESULT {json}` line. A stream counts as `ok` only with status 200 and a body ending with
/// `data: [DONE]`.
///
/// Stream `i` goes to target `i % targets` and belongs to conversation `i / --copies`: with two targets and
/// `--copies 2` every conversation is sent once through each target (its request ids say which).
@main
struct LoadGeneratorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load-generator",
        abstract: "Holds N concurrent SSE chat-completion streams; reports errors by kind and time to first byte."
    )

    @Option(name: .customLong("target"), help: "host:port to send streams to (repeatable; round-robin).")
    var targets: [String] = []

    @Option(help: "Concurrent streams to open.")
    var streams: Int

    @Option(help: "Streams opened per second.")
    var rate: Double = 500

    @Option(name: .customLong("checkpoint"), help: "Stream count at which the ramp pauses (repeatable).")
    var checkpoints: [Int] = []

    @Option(help: "Seconds to hold at each checkpoint and at N.")
    var hold: Double = 5

    @Option(help: "Loopback source addresses to spread connections over (127.0.0.2 upwards).")
    var sources: Int = 8

    @Option(help: "Consecutive streams that share one conversation (same prompt).")
    var copies: Int = 1

    @Option(help: "The model requested.")
    var model = "load-model"

    @Option(help: "max_tokens of every request.")
    var maxTokens = 30

    @Option(help: "Approximate prompt size in bytes.")
    var promptBytes = 2_048

    @Option(help: "Prefix of the x-request-id of every request (<label>-c<conversation>-s<stream>).")
    var label = "lg"

    @Option(help: "Seconds without a byte after which a stream counts as timed out.")
    var idleTimeout: Double = 60

    @Option(help: "Seconds after which the run stops waiting; open streams count as unfinished.")
    var deadline: Double = 600

    @Option(help: "Event-loop threads.")
    var threads = 2

    mutating func validate() throws {
        guard !targets.isEmpty else { throw ValidationError("at least one --target host:port") }
        for target in targets where Self.split(target) == nil {
            throw ValidationError("--target \(target): expected host:port")
        }
        guard streams >= 1, rate > 0, copies >= 1, sources >= 1, sources <= 250, threads >= 1 else {
            throw ValidationError("--streams, --rate, --copies, --threads ≥ 1; --sources in 1...250")
        }
    }

    static func split(_ target: String) -> (host: String, port: Int)? {
        guard let colon = target.lastIndex(of: ":"), let port = Int(target[target.index(after: colon)...]) else {
            return nil
        }
        return (String(target[..<colon]), port)
    }

    func run() async throws {
        // One descriptor per stream: sized before the event loops start, so that growing the table never
        // stalls a connect mid-ramp (see ProcessLimits.DescriptorTable) and adds to the time to first byte.
        DescriptorTable.prepare(for: streams + 256)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        let addresses = try targets.map { target -> SocketAddress in
            let (host, port) = Self.split(target)!
            return try SocketAddress(ipAddress: host, port: port)
        }
        let sourceAddresses = try (0..<sources).map { try SocketAddress(ipAddress: "127.0.0.\($0 + 2)", port: 0) }
        let results = Results()
        let requests = RequestFactory(model: model, maxTokens: maxTokens, promptBytes: promptBytes, label: label)
        let idle = TimeAmount.milliseconds(Int64(idleTimeout * 1_000))
        let clock = ContinuousClock()
        let runStart = clock.now

        func open(_ index: Int) {
            let targetIndex = index % addresses.count
            let request = requests.make(
                stream: index,
                conversation: index / copies,
                host: targets[targetIndex]
            )
            let started = NIODeadline.now()
            ClientBootstrap(group: group)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(to: sourceAddresses[index % sourceAddresses.count])
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        try pipeline.addHTTPClientHandlers()
                        try pipeline.addHandler(IdleStateHandler(readTimeout: idle))
                        try pipeline.addHandler(StreamHandler(request: request, started: started, results: results))
                    }
                }
                .connect(to: addresses[targetIndex])
                .whenFailure { error in results.finish(ErrorKind.connect(error), bytes: 0, hadFirstByte: false) }
        }

        var opened = 0
        let stops = (checkpoints.filter { $0 > 0 && $0 < streams }.sorted()) + [streams]
        for stop in stops {
            let segmentStart = clock.now
            let segmentBase = opened
            while opened < stop {
                let elapsed = (clock.now - segmentStart) / .seconds(1)
                let due = min(stop, segmentBase + Int(elapsed * rate) + 1)
                while opened < due {
                    open(opened)
                    opened += 1
                }
                try await Task.sleep(for: .milliseconds(5))
            }
            // Every opened stream has its first byte or has failed: that many are in flight now.
            let settleBy = clock.now + .seconds(max(30, idleTimeout))
            while results.snapshot().settled < opened && clock.now < settleBy {
                try await Task.sleep(for: .milliseconds(20))
            }
            let state = results.snapshot()
            let seconds = (clock.now - runStart) / .seconds(1)
            let errors = state.finished - state.ok
            emit(
                "CHECKPOINT \(stop) streaming=\(state.streaming) settled=\(state.settled) "
                    + "finished=\(state.finished) errors=\(errors) t=\((seconds * 10).rounded() / 10)"
            )
            try await Task.sleep(for: .milliseconds(Int64(hold * 1_000)))
        }
        let stopBy = runStart + .seconds(deadline)
        while results.snapshot().finished < streams && clock.now < stopBy {
            try await Task.sleep(for: .milliseconds(50))
        }
        let final = results.snapshot()
        var report = Report(state: final, streams: streams, elapsed: (clock.now - runStart) / .seconds(1))
        if final.finished < streams { report.errors["unfinished_at_deadline", default: 0] += streams - final.finished }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(report), as: UTF8.self)
        emit("RESULT \(json)")
        // Streams still open at the deadline are dropped with the process.
        if final.finished == streams { try await group.shutdownGracefully() }
    }
}

/// Writes a line to standard output at once (unbuffered: a script polls it).
func emit(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let written = write(1, bytes.baseAddress! + offset, bytes.count - offset)
            if written <= 0 { return }
            offset += written
        }
    }
}
