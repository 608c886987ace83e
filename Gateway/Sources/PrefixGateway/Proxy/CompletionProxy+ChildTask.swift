import Hummingbird

extension CompletionProxy {
    /// Runs ``handle(_:context:endpoint:)`` in a child task that ends when the response head is ready.
    ///
    /// A task keeps the stack slabs its deepest moment needed until it ends, and the connection's task lives
    /// as long as the stream: run there, decoding, routing and `execute` would stay allocated for the whole
    /// generation. The child gives them back before the body starts streaming.
    func handleInChildTask(
        _ request: Request,
        context: some RequestContext,
        endpoint: CompletionEndpoint
    ) async -> Response {
        await withTaskGroup(of: Response.self) { group in
            group.addTask { await handle(request, context: context, endpoint: endpoint) }
            return await group.next() ?? Response(status: .internalServerError)
        }
    }
}
