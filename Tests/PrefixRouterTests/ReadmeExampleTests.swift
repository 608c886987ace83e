import Foundation
@_spi(Internals) import PrefixRouter
import Testing

/// README.md's usage example, compiled and run. The lines between the markers must appear verbatim in
/// README.md (checked below), so the README cannot drift from code that builds.
@Suite("README example")
struct ReadmeExampleTests {
    @Test func exampleRoutesAndReleases() async throws {
        // BEGIN README EXAMPLE
        let hasher = try PrefixHasher(blockSize: 16, namespace: HashNamespace(model: "llama-3.1-8b"))
        let router = try FleetRouter(
            replicaIDs: ["vllm-0:8000", "vllm-1:8000", "vllm-2:8000"],
            strategy: try PrefixAffinity(fallback: LeastOutstanding()),
            configuration: FleetConfiguration(minimumCapacity: 8)
        )

        // In a request handler (any async context, any number at once):
        func handle(promptTokens: [UInt32]) async -> String? {
            let request = hasher.routingRequest(tokens: promptTokens)
            return await router.withLease(for: request) { decision in
                // Forward to decision.replica; the lease is released when this closure
                // returns, throws or is cancelled. nil means no replica is eligible (answer 503).
                "sent to \(decision.replica)"
            }
        }
        // END README EXAMPLE

        let prompt = (0..<3_000).map { UInt32($0 % 50_000) }
        let first = await handle(promptTokens: prompt)
        let second = await handle(promptTokens: prompt + [7, 8, 9])
        #expect(first?.hasPrefix("sent to vllm-") == true)
        #expect(first == second)  // same 2,048-token key prefix on an idle fleet: same replica
        #expect(router.liveLeaseCount == 0)
    }

    @Test func readmeContainsTheExampleVerbatim() throws {
        let testFile = URL(fileURLWithPath: #filePath)
        let root = testFile.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let source = try String(contentsOf: testFile, encoding: .utf8)
        let lines = source.components(separatedBy: "\n")
        let begin = try #require(lines.firstIndex { $0.hasSuffix("// BEGIN README EXAMPLE") })
        let end = try #require(lines.firstIndex { $0.hasSuffix("// END README EXAMPLE") })
        let example = lines[(begin + 1)..<end].map { $0.hasPrefix("        ") ? String($0.dropFirst(8)) : $0 }
        #expect(readme.contains(example.joined(separator: "\n")))
    }
}
