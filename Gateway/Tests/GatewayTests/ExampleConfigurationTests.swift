import Foundation
import Logging
import Testing

@testable import PrefixGateway

/// `Gateway/gateway.example.json` and `Gateway/README.md` document every configuration field: this keeps
/// them from drifting from the code.
@Suite("Example configuration")
struct ExampleConfigurationTests {
    private static let packageDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    private static let examplePath = packageDirectory.appendingPathComponent("gateway.example.json").path
    private static let readmePath = packageDirectory.appendingPathComponent("README.md").path

    /// Every configuration field by its documented name (`listen.host`, `replicas[].url`), from the
    /// configuration types' coding keys.
    private static let fields: [String: [String]] = [
        "listen": ListenConfiguration.CodingKeys.allCases.map(\.stringValue),
        "replicas[]": ReplicaConfiguration.CodingKeys.allCases.map(\.stringValue),
        "routing": RoutingConfiguration.CodingKeys.allCases.map(\.stringValue),
        "admission": AdmissionConfiguration.CodingKeys.allCases.map(\.stringValue),
        "upstream": UpstreamConfiguration.CodingKeys.allCases.map(\.stringValue),
        "auth": AuthConfiguration.CodingKeys.allCases.map(\.stringValue),
        "health": HealthConfiguration.CodingKeys.allCases.map(\.stringValue),
        "shutdown": ShutdownConfiguration.CodingKeys.allCases.map(\.stringValue),
        "batch": BatchConfiguration.CodingKeys.allCases.map(\.stringValue),
        "batch.webhook": BatchWebhookConfiguration.CodingKeys.allCases.map(\.stringValue),
    ]

    @Test("the example loads, validates and builds a gateway")
    func exampleIsValid() throws {
        let configuration = try GatewayConfiguration.load(contentsOf: Self.examplePath)
        #expect(configuration.replicas.count >= 2)
        var logger = Logger(label: "example")
        logger.logLevel = .critical
        _ = try Gateway(configuration: configuration, logger: logger)
    }

    @Test("the example sets every field")
    func exampleSetsEveryField() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: Self.examplePath))
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(
            Set(root.keys) == Set(GatewayConfiguration.CodingKeys.allCases.map(\.stringValue)),
            "top-level sections"
        )
        for (section, names) in Self.fields {
            var present = Set<String>()
            if section == "replicas[]" {
                for replica in root["replicas"] as? [[String: Any]] ?? [] { present.formUnion(replica.keys) }
            } else if section == "batch.webhook" {
                let batch = root["batch"] as? [String: Any]
                present = Set((batch?["webhook"] as? [String: Any])?.keys.map { $0 } ?? [])
            } else {
                present = Set((root[section] as? [String: Any])?.keys.map { $0 } ?? [])
            }
            #expect(present == Set(names), "\(section): missing \(Set(names).subtracting(present).sorted())")
        }
    }

    @Test("the README documents every field")
    func readmeDocumentsEveryField() throws {
        let readme = try String(contentsOfFile: Self.readmePath, encoding: .utf8)
        let missing = Self.fields.flatMap { section, names in
            names.map { "\(section).\($0)" }.filter { !readme.contains("| `\($0)` |") }
        }
        #expect(missing.isEmpty, "README.md has no row for \(missing.sorted())")
    }
}
