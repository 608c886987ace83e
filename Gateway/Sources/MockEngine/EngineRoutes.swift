import Hummingbird

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The engine's HTTP surface: vLLM's OpenAI-compatible endpoints, `/health` and `/metrics`.
enum EngineRoutes {
    static func router(core: EngineCore) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        let chat = InferenceHandler(core: core, kind: .chat, path: "/v1/chat/completions")
        let completions = InferenceHandler(core: core, kind: .completion, path: "/v1/completions")
        router.post("v1/chat/completions") { request, _ in try await chat.respond(to: request) }
        router.post("v1/completions") { request, _ in try await completions.respond(to: request) }
        let models = modelList(core.configuration.models)
        router.get("v1/models") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: models))
            )
        }
        router.get("health") { _, _ in
            core.healthy ? Response(status: .ok) : OpenAIError.unhealthy.response
        }
        let modelName = core.configuration.models.first ?? ""
        router.get("metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: core.metrics.render(modelName: modelName)))
            )
        }
        return router
    }

    /// `GET /v1/models`, rendered once.
    private static func modelList(_ models: [String]) -> Data {
        struct Model: Encodable {
            let id: String
            let object = "model"
            let created: Int
            let ownedBy = "mock-engine"
            let root: String
            enum CodingKeys: String, CodingKey {
                case id, object, created, root
                case ownedBy = "owned_by"
            }
        }
        struct List: Encodable {
            let object = "list"
            let data: [Model]
        }
        let created = Int(Date().timeIntervalSince1970)
        let list = List(data: models.map { Model(id: $0, created: created, root: $0) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding strings and integers cannot fail; the fallback only keeps this free of `try!`.
        return (try? encoder.encode(list)) ?? Data(#"{"object":"list","data":[]}"#.utf8)
    }
}
