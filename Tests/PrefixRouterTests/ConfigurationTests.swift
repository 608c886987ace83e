@_spi(Internals) import PrefixRouter
import Testing

@Suite("Invalid configuration")
struct ConfigurationTests {
    static func code(_ body: () throws -> Void) -> PrefixRouterError.Code? {
        do {
            try body()
            return nil
        } catch let error as PrefixRouterError {
            #expect(!error.message.isEmpty)
            return error.code
        } catch {
            Issue.record("expected a PrefixRouterError, got \(error)")
            return nil
        }
    }

    @Test func emptyReplicaID() {
        #expect(Self.code { _ = try FleetRouter(replicaIDs: [""], strategy: RoundRobin()) } == .emptyReplicaID)
    }

    @Test func duplicateReplicaID() {
        #expect(
            Self.code { _ = try FleetRouter(replicaIDs: ["a", "a"], strategy: RoundRobin()) } == .duplicateReplicaID
        )
        let router = try? FleetRouter(replicaIDs: ["a"], strategy: RoundRobin())
        #expect(Self.code { try router?.add(Replica(id: "a")) } == .duplicateReplicaID)
    }

    @Test(arguments: [1.0, 0.5, -2, .nan, .infinity])
    func loadFactorMustExceedOne(loadFactor: Double) {
        #expect(
            Self.code {
                _ = try FleetRouter(
                    replicaIDs: ["a"],
                    strategy: RoundRobin(),
                    configuration: FleetConfiguration(loadFactor: loadFactor)
                )
            } == .invalidLoadFactor
        )
    }

    @Test(arguments: [0, -1, 1_001])
    func weightOutOfRange(weight: Int) {
        #expect(
            Self.code { _ = try FleetRouter(replicas: [Replica(id: "a", weight: weight)], strategy: RoundRobin()) }
                == .invalidWeight
        )
        let router = try? FleetRouter(replicaIDs: ["a"], strategy: RoundRobin())
        #expect(Self.code { try router?.setWeight(weight, of: "a") } == .invalidWeight)
    }

    @Test func virtualNodes() {
        #expect(
            Self.code {
                _ = try FleetRouter(
                    replicaIDs: ["a"],
                    strategy: RoundRobin(),
                    configuration: FleetConfiguration(virtualNodesPerWeight: 0)
                )
            } == .invalidVirtualNodes
        )
    }

    @Test(arguments: [0, -3])
    func minimumCapacity(value: Int) {
        #expect(
            Self.code {
                _ = try FleetRouter(
                    replicaIDs: ["a"],
                    strategy: RoundRobin(),
                    configuration: FleetConfiguration(minimumCapacity: value)
                )
            } == .invalidParameter
        )
    }

    @Test func unknownReplica() {
        let router = try? FleetRouter(replicaIDs: ["a"], strategy: RoundRobin())
        #expect(Self.code { try router?.remove("zz") } == .unknownReplica)
        #expect(Self.code { try router?.markDown("zz") } == .unknownReplica)
    }

    @Test func strategyParameters() {
        #expect(Self.code { _ = try PrefixAffinity(keyDepthTokens: 0, fallback: RoundRobin()) } == .invalidParameter)
        #expect(Self.code { _ = try SessionTable(timeToLive: .zero) } == .invalidParameter)
        // Catches: an unbounded TTL (`now + .seconds(Int64.max)` traps on the first pin).
        #expect(Self.code { _ = try SessionTable(timeToLive: .seconds(Int64.max)) } == .invalidParameter)
        #expect(Self.code { _ = try SessionTable(timeToLive: .seconds(366 * 86_400)) } == .invalidParameter)
        #expect(Self.code { _ = try CacheAware(prefixWeight: .infinity, fallback: RoundRobin()) } == .invalidParameter)
        #expect(Self.code { _ = try CacheAware(loadWeight: 1e7, fallback: RoundRobin()) } == .invalidParameter)
        #expect(Self.code { _ = try SessionTable(capacity: 0) } == .invalidParameter)
    }

    @Test func errorMessageNamesTheField() {
        do {
            _ = try FleetRouter(
                replicaIDs: ["a"],
                strategy: RoundRobin(),
                configuration: FleetConfiguration(loadFactor: 1)
            )
            Issue.record("expected an error")
        } catch {
            #expect(error.description.contains("loadFactor"))
            #expect(error.description.contains("greater than 1"))
        }
    }
}
