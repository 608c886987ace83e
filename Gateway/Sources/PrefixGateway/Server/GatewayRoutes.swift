import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PrefixRouter

/// The gateway's HTTP surface.
///
/// - `POST /v1/chat/completions`, `POST /v1/completions`: the proxied inference endpoints, served before
///   this router by ``CompletionIntake`` (only their 405 answers come from here).
/// - `GET /v1/models`: the configured models.
/// - `GET /health`: the gateway itself (503 once shutdown began).
/// - `GET /metrics`: Prometheus text.
/// - `/v1/files…`, `/v1/batches…`: the Batch API, when `batch` is configured (``BatchRoutes``).
/// - `/admin/…` (admin key): `GET fleet`, `POST replicas/{id}/drain|undrain`, `PUT replicas/{id}/weight`,
///   `POST reload`.
enum GatewayRoutes {
    static func build(
        core: GatewayCore,
        batch: BatchService? = nil,
        reload: @escaping @Sendable () async throws -> Void
    )
        -> Hummingbird.Router<BasicRequestContext>
    {
        let router = Hummingbird.Router(context: BasicRequestContext.self)
        var endpoints: [String: [HTTPRequest.Method]] = [
            "/v1/chat/completions": [.post], "/v1/completions": [.post], "/v1/models": [.get],
            "/health": [.get], "/metrics": [.get], "/admin/fleet": [.get], "/admin/reload": [.post],
            "/admin/replicas/:id/drain": [.post], "/admin/replicas/:id/undrain": [.post],
            "/admin/replicas/:id/weight": [.put, .post],
        ]
        if batch != nil { endpoints.merge(BatchRoutes.endpoints) { $1 } }
        router.add(middleware: EndpointGuard<BasicRequestContext>(endpoints))
        // POST /v1/chat/completions and /v1/completions never reach this router: CompletionIntake serves them
        // in the connection's channel (GatewayChildChannel). They are listed above for the 405 answers.
        router.get("v1/models") { request, _ -> Response in
            let runtime = core.runtime
            guard runtime.admitsClient(request.headers) else { return APIError.unauthorized.response() }
            let list = ModelList(data: runtime.directory.models.map { ModelList.Model(id: $0) })
            return json(list)
        }
        router.get("health") { _, _ -> Response in
            core.isShuttingDown
                ? json(["status": "shutting_down"], status: .serviceUnavailable) : json(["status": "ok"])
        }
        router.get("metrics") { _, _ -> Response in
            core.metrics.update(from: core.router.snapshot(), inFlight: core.gate.current)
            if let batch {
                do {
                    let depth = try await batch.queue.depth()
                    core.metrics.update(batchDepth: depth, dispatching: batch.dispatcher.runningItems)
                } catch {
                    core.logger.error("batch queue: counting for /metrics failed", metadata: ["error": "\(error)"])
                }
            }
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: core.metrics.render()))
            )
        }
        AdminRoutes.add(to: router, core: core, reload: reload)
        if let batch { BatchRoutes.add(to: router, core: core, batch: batch) }
        return router
    }

    /// A JSON answer.
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}

/// `GET /v1/models` in OpenAI's shape.
struct ModelList: Encodable {
    struct Model: Encodable {
        var id: String
        var object = "model"
        var created = 0
        var ownedBy = "prefix-gateway"

        enum CodingKeys: String, CodingKey {
            case id, object, created
            case ownedBy = "owned_by"
        }
    }
    var object = "list"
    var data: [Model]
}
