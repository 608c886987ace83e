import Hummingbird

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An error answered in OpenAI's envelope: `{"error": {"message", "type", "param", "code"}}`.
struct OpenAIError: Error, Sendable {
    /// The HTTP status.
    var status: HTTPResponse.Status
    /// A readable message naming the offending field, if any.
    var message: String
    /// OpenAI's error type, e.g. `invalid_request_error`.
    var type: String
    /// The offending field, e.g. `messages[0].content`; nil when none.
    var param: String?
    /// A machine-readable code, e.g. `missing_required_parameter`; nil when none.
    var code: String?

    /// A 400 `invalid_request_error`.
    static func invalidRequest(_ message: String, param: String?, code: String?) -> OpenAIError {
        OpenAIError(status: .badRequest, message: message, type: "invalid_request_error", param: param, code: code)
    }

    /// The 404 for a model the engine does not serve.
    static func modelNotFound(_ model: String) -> OpenAIError {
        OpenAIError(
            status: .notFound,
            message: "The model `\(model)` does not exist.",
            type: "invalid_request_error",
            param: "model",
            code: "model_not_found"
        )
    }

    /// The answer of the `failStatus` fault.
    static func injected(status code: Int) -> OpenAIError {
        let status = HTTPResponse.Status(code: (400...599).contains(code) ? code : 500)
        return OpenAIError(
            status: status,
            message: "mock engine fault: every request fails with status \(status.code)",
            type: status.code >= 500 ? "server_error" : "invalid_request_error",
            param: nil,
            code: "injected_fault"
        )
    }

    /// The answer to a body over the size limit.
    static func bodyTooLarge(limit: Int) -> OpenAIError {
        OpenAIError(
            status: .contentTooLarge,
            message: "The request body exceeds \(limit) bytes.",
            type: "invalid_request_error",
            param: nil,
            code: "request_too_large"
        )
    }

    /// The answer of `/health` while the engine is set unhealthy.
    static let unhealthy = OpenAIError(
        status: .serviceUnavailable,
        message: "mock engine set unhealthy",
        type: "server_error",
        param: nil,
        code: "unhealthy"
    )

    /// The error as a JSON response.
    var response: Response {
        let body = Envelope(error: self)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding strings and optionals cannot fail; the fallback only keeps this free of `try!`.
        let bytes = (try? encoder.encode(body)) ?? Data(#"{"error":{"message":"error"}}"#.utf8)
        return Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }

    private struct Envelope: Encodable {
        let error: OpenAIError
    }
}

extension OpenAIError: Encodable {
    private enum CodingKeys: String, CodingKey {
        case message, type, param, code
    }

    /// Encodes the four fields, absent ones as `null` as OpenAI does.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(message, forKey: .message)
        try container.encode(type, forKey: .type)
        try container.encode(param, forKey: .param)
        try container.encode(code, forKey: .code)
    }
}
