import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PrefixRouter

/// The admin endpoints, behind the admin key (`Authorization: Bearer <adminKey>` or `x-admin-key`); with no
/// admin key configured they answer 403.
enum AdminRoutes {
    static func add(
        to router: Hummingbird.Router<BasicRequestContext>,
        core: GatewayCore,
        reload: @escaping @Sendable () async throws -> Void
    ) {
        @Sendable func guarded(
            _ handler: @escaping @Sendable (Request, BasicRequestContext) async throws -> Response
        ) -> @Sendable (Request, BasicRequestContext) async throws -> Response {
            { request, context in
                let runtime = core.runtime
                guard runtime.adminKey != nil else { return APIError.adminForbidden.response() }
                guard runtime.admitsAdmin(request.headers) else { return APIError.unauthorized.response() }
                return try await handler(request, context)
            }
        }

        router.get("admin/fleet", use: guarded { _, _ in GatewayRoutes.json(FleetView(core: core)) })

        router.post(
            "admin/replicas/:id/drain",
            use: guarded { _, context in
                control(core, context) { (id: ReplicaID) throws(PrefixRouterError) in try core.router.drain(id) }
            }
        )
        router.post(
            "admin/replicas/:id/undrain",
            use: guarded { _, context in
                control(core, context) { (id: ReplicaID) throws(PrefixRouterError) in try core.router.undrain(id) }
            }
        )
        let setWeight: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, context in
            var request = request
            let body = try await request.collectBody(upTo: 4_096)
            struct Weight: Decodable { var weight: Int }
            guard let weight = try? JSONDecoder().decode(Weight.self, from: Data(body.readableBytesView)) else {
                return APIError.invalidRequest("weight: expected {\"weight\": 1...1000}", param: "weight").response()
            }
            return control(core, context) { (id: ReplicaID) throws(PrefixRouterError) in
                try core.router.setWeight(weight.weight, of: id)
            }
        }
        router.put("admin/replicas/:id/weight", use: guarded(setWeight))
        router.post("admin/replicas/:id/weight", use: guarded(setWeight))
        router.post(
            "admin/reload",
            use: guarded { _, _ in
                do {
                    try await reload()
                    return GatewayRoutes.json(FleetView(core: core))
                } catch {
                    return APIError(
                        status: .badRequest,
                        message: "\(error)",
                        type: "invalid_request_error",
                        param: nil,
                        code: "invalid_configuration"
                    ).response()
                }
            }
        )
    }

    /// Applies a control-plane change to the replica named in the path; answers with the fleet view.
    private static func control(
        _ core: GatewayCore,
        _ context: BasicRequestContext,
        _ change: (ReplicaID) throws(PrefixRouterError) -> Void
    ) -> Response {
        guard let id = context.parameters.get("id") else {
            return APIError.invalidRequest("expected a replica id in the path", param: "id").response()
        }
        do {
            try change(ReplicaID(id))
        } catch {
            let status: HTTPResponse.Status = error.code == .unknownReplica ? .notFound : .badRequest
            return APIError(
                status: status,
                message: error.message,
                type: "invalid_request_error",
                param: "id",
                code: nil
            )
            .response()
        }
        core.logger.notice("admin change", metadata: ["replica": "\(id)", "path": "\(context.endpointPath ?? "")"])
        return GatewayRoutes.json(FleetView(core: core))
    }
}

/// The admin view of the fleet: every replica with its configuration, health, drain state and load.
struct FleetView: Encodable {
    struct ReplicaView: Encodable {
        var id: String
        var url: String
        var models: [String]
        var weight: Int
        var health: String
        var state: String
        var eligible: Bool
        var failingChecks: Bool
        var ejected: Bool
        var outstanding: Int
        var capacity: Int
        var outstandingTokens: Int
        var pendingPrefillTokens: Int
    }
    var version: UInt64
    var inFlight: Int
    var maxInFlight: Int
    var liveLeases: Int
    var replicas: [ReplicaView]
    var decisions: [String: Int]
    var refusals: Int
    var strategy: String

    init(core: GatewayCore) {
        let snapshot = core.router.snapshot()
        let directory = core.runtime.directory
        version = snapshot.version
        inFlight = core.gate.current
        maxInFlight = core.gate.limit
        liveLeases = snapshot.liveLeases
        refusals = snapshot.refusals
        strategy = core.configuration.routing.strategy.rawValue
        decisions = Dictionary(uniqueKeysWithValues: snapshot.decisions.map { ($0.key.name, $0.value) })
        replicas = snapshot.replicas.map { replica in
            let endpoint = directory.endpoints[replica.id]
            let status = core.health.status(of: replica.id)
            return ReplicaView(
                id: replica.id.rawValue,
                url: endpoint?.baseURL ?? "",
                models: endpoint?.models.sorted() ?? [],
                weight: replica.weight,
                health: replica.health.description,
                state: replica.administrativeState.description,
                eligible: replica.isEligible,
                failingChecks: status.activeDown,
                ejected: status.ejected,
                outstanding: replica.outstanding,
                capacity: replica.capacity,
                outstandingTokens: replica.outstandingTokens,
                pendingPrefillTokens: replica.pendingPrefillTokens
            )
        }
    }
}
