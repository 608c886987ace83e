import HTTPTypes
import NIOConcurrencyHelpers
import PrefixRouter

/// The part of the configuration a reload (SIGHUP) replaces in one step: the replicas and their models,
/// the routing keys' hashers, and the keys. Read once per request, as a value.
struct GatewayRuntime: Sendable {
    /// The replicas.
    let directory: ReplicaDirectory
    /// One hasher per configured model.
    let keys: RoutingKeyBuilder
    /// Client keys; empty: open.
    let apiKeys: Set<String>
    /// The admin key, or nil: admin endpoints disabled.
    let adminKey: String?
    /// The session header.
    let sessionHeader: HTTPField.Name?

    /// Builds the runtime state of a validated configuration.
    ///
    /// - Throws: ``GatewayConfigurationError`` naming the field.
    init(_ configuration: GatewayConfiguration, source: String) throws(GatewayConfigurationError) {
        var endpoints: [ReplicaEndpoint] = []
        for (position, replica) in configuration.replicas.enumerated() {
            do {
                endpoints.append(try ReplicaEndpoint(replica))
            } catch {
                throw GatewayConfigurationError(
                    source: source,
                    field: "replicas[\(position)].\(error.field)",
                    error.message
                )
            }
        }
        directory = ReplicaDirectory(endpoints)
        do {
            keys = try RoutingKeyBuilder(models: directory.models, blockSize: configuration.routing.blockSize)
        } catch {
            throw GatewayConfigurationError(source: source, field: "routing.blockSize", error.message)
        }
        apiKeys = Set(configuration.auth.apiKeys)
        adminKey = configuration.auth.adminKey
        sessionHeader = HTTPField.Name(configuration.routing.sessionHeader)
    }

    /// Whether the request carries an accepted client key (always, when none are configured).
    func admitsClient(_ headers: HTTPFields) -> Bool {
        guard !apiKeys.isEmpty else { return true }
        guard let key = Self.bearerToken(headers) else { return false }
        return apiKeys.contains(key)
    }

    /// Whether the request carries the admin key (`Authorization: Bearer` or `x-admin-key`).
    func admitsAdmin(_ headers: HTTPFields) -> Bool {
        guard let adminKey else { return false }
        return Self.bearerToken(headers) == adminKey || headers[.adminKey] == adminKey
    }

    private static func bearerToken(_ headers: HTTPFields) -> String? {
        guard let value = headers[.authorization] else { return nil }
        let prefix = "Bearer "
        guard value.count > prefix.count, value.prefix(prefix.count).lowercased() == prefix.lowercased() else {
            return nil
        }
        var token = value.dropFirst(prefix.count)
        while token.first?.isWhitespace == true { token.removeFirst() }
        while token.last?.isWhitespace == true { token.removeLast() }
        return String(token)
    }
}
