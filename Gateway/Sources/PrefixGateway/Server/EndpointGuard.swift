import HTTPTypes
import Hummingbird

/// Turns Hummingbird's bare 404 into OpenAI-shaped answers: 405 (with `Allow`) when the path exists with
/// other methods, 404 naming the path otherwise.
struct EndpointGuard<Context: RequestContext>: RouterMiddleware {
    /// Route patterns (`/admin/replicas/:id/drain`) and their methods.
    let routes: [(pattern: [Substring], methods: [HTTPRequest.Method])]

    init(_ routes: [String: [HTTPRequest.Method]]) {
        self.routes = routes.map { (path, methods) in (path.split(separator: "/"), methods) }
    }

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let path = request.uri.path
            let parts = path.split(separator: "/")
            let allowed = routes.filter { Self.matches($0.pattern, parts) }.flatMap(\.methods)
            guard !allowed.isEmpty else { return APIError.notFound(path).response() }
            let allow = Set(allowed.map(\.rawValue)).sorted().joined(separator: ", ")
            return APIError.methodNotAllowed(request.method.rawValue, path).response(headers: [.allow: allow])
        }
    }

    private static func matches(_ pattern: [Substring], _ parts: [Substring]) -> Bool {
        guard pattern.count == parts.count else { return false }
        return zip(pattern, parts).allSatisfy { $0.hasPrefix(":") || $0 == $1 }
    }
}
