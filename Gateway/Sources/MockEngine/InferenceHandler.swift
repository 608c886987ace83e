import HTTPTypes
import Hummingbird
import NIOCore

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Answers `POST /v1/chat/completions` and `POST /v1/completions`.
struct InferenceHandler: Sendable {
    let core: EngineCore
    let kind: InferenceKind
    let path: String

    /// Records the request, applies the faults, then answers it in full or as a stream.
    func respond(to request: Request) async throws -> Response {
        var request = request
        let ticket = core.receive()
        let configuration = core.configuration
        var record = MockRequestRecord(sequence: ticket, path: path, headers: Self.headers(of: request), body: "")
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: configuration.maxBodyBytes)
        } catch is NIOTooManyBytesError {
            core.record(record)
            core.finish(.failed)
            return OpenAIError.bodyTooLarge(limit: configuration.maxBodyBytes).response
        } catch {
            core.finish(.cancelled)
            throw error
        }
        let bytes = Array(body.readableBytesView)
        record.body = String(decoding: bytes, as: UTF8.self)
        let parsed = Result { () throws(OpenAIError) in
            try InferenceRequest.parse(bytes, kind: kind, configuration: configuration)
        }
        if case .success(let inference) = parsed {
            record.model = inference.model
            record.priority = inference.priority
            record.stream = inference.stream
            record.promptTokens = PromptBlocks.estimateTokens(byteCount: inference.promptBytes.count)
        }
        core.record(record)
        let faults = core.faults
        if let status = faults.failStatus {
            core.finish(.failed)
            return OpenAIError.injected(status: status).response
        }
        let inference: InferenceRequest
        switch parsed {
        case .success(let value): inference = value
        case .failure(let error):
            core.finish(.failed)
            return error.response
        }
        let run = SequenceRun(
            core: core,
            ticket: ticket,
            priority: inference.priority ?? 0,
            prompt: PromptBlocks(
                bytes: inference.promptBytes,
                model: inference.model,
                blockBytes: configuration.prefixBlockCharacters
            ),
            maxTokens: inference.maxTokens,
            faults: faults
        )
        let reply = Reply(
            kind: kind,
            id: kind.idPrefix + String(ticket),
            model: inference.model,
            created: Int(Date().timeIntervalSince1970),
            finishReason: inference.capped ? "length" : "stop"
        )
        // After collectBody the body still watches the connection: a hang-up cancels the generation.
        // Watching consumes the connection's inbound stream, so Hummingbird closes the connection after
        // the answer; the answers say `connection: close` so that clients do not reuse it.
        let inbound = request.body
        if inference.stream {
            return streamed(run, reply, includeUsage: inference.includeUsage, inbound: inbound)
        }
        return try await complete(run, reply, inbound: inbound)
    }

    /// The fixed parts of one answer.
    struct Reply: Sendable {
        let kind: InferenceKind
        let id: String
        let model: String
        let created: Int
        let finishReason: String
    }

    /// A server-sent-events answer: the head at once, then a chunk per token as they are decoded.
    private func streamed(_ run: SequenceRun, _ reply: Reply, includeUsage: Bool, inbound: RequestBody) -> Response {
        let core = core
        let chunks = StreamChunks(
            kind: reply.kind,
            id: reply.id,
            model: reply.model,
            created: reply.created,
            finishReason: reply.finishReason
        )
        let headers: HTTPFields = [
            .contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache", .connection: "close",
        ]
        return Response(
            status: .ok,
            headers: headers,
            body: ResponseBody { writer in
                let allocator = ByteBufferAllocator()
                do {
                    try await inbound.consumeWithCancellationOnInboundClose { _ in
                        let cachedTokens = try await run.stream { index in
                            if index == 0, let role = chunks.roleChunk(allocator: allocator) {
                                try await writer.write(role)
                            }
                            let isLast = index == run.maxTokens - 1
                            try await writer.write(chunks.tokenChunk(index, isLast: isLast, allocator: allocator))
                        }
                        if includeUsage {
                            let usage = CompletionUsage(
                                promptTokens: run.prompt.tokens,
                                completionTokens: run.maxTokens,
                                cachedTokens: cachedTokens
                            )
                            try await writer.write(chunks.usageChunk(usage, allocator: allocator))
                        }
                        try await writer.write(allocator.buffer(string: StreamChunks.done))
                    }
                    try await writer.finish(nil)
                    core.finish(.completed)
                } catch let fault as MockFault {
                    core.finish(.failed)
                    throw fault
                } catch {
                    core.finish(.cancelled)
                    throw error
                }
            }
        )
    }

    /// A single JSON answer, sent once the last token is decoded.
    private func complete(_ run: SequenceRun, _ reply: Reply, inbound: RequestBody) async throws -> Response {
        let cachedTokens: Int
        do {
            cachedTokens = try await inbound.consumeWithCancellationOnInboundClose { _ in try await run.complete() }
        } catch MockFault.died {
            core.finish(.failed)
            // The head goes out, then the body fails: Hummingbird closes the connection mid-response.
            return Response(
                status: .ok,
                headers: [.contentType: "application/json"],
                body: ResponseBody { _ in throw MockFault.died }
            )
        } catch let fault as MockFault {
            core.finish(.failed)
            throw fault
        } catch {
            core.finish(.cancelled)
            throw error
        }
        let response = CompletionResponse(
            kind: reply.kind,
            id: reply.id,
            created: reply.created,
            model: reply.model,
            text: TokenText.text(count: run.maxTokens),
            finishReason: reply.finishReason,
            usage: CompletionUsage(
                promptTokens: run.prompt.tokens,
                completionTokens: run.maxTokens,
                cachedTokens: cachedTokens
            )
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(response)
        core.finish(.completed)
        return Response(
            status: .ok,
            headers: [.contentType: "application/json", .connection: "close"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data))
        )
    }

    private static func headers(of request: Request) -> [String: String] {
        var headers: [String: String] = [:]
        for field in request.headers {
            let name = field.name.canonicalName
            headers[name] = headers[name].map { $0 + ", " + field.value } ?? field.value
        }
        return headers
    }
}
