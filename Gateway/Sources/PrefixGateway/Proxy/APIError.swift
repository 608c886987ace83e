import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// An error answer in OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`, which OpenAI's
/// client libraries turn into typed exceptions.
struct APIError: Sendable {
    var status: HTTPResponse.Status
    var message: String
    var type: String
    var param: String?
    var code: String?

    private struct Envelope: Encodable {
        struct Body: Encodable {
            var message: String
            var type: String
            var param: String?
            var code: String?

            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(message, forKey: .message)
                try c.encode(type, forKey: .type)
                try c.encode(param, forKey: .param)  // null when absent, as OpenAI sends it
                try c.encode(code, forKey: .code)
            }

            enum CodingKeys: String, CodingKey { case message, type, param, code }
        }
        var error: Body
    }

    /// The JSON body.
    var json: String {
        let envelope = Envelope(error: .init(message: message, type: type, param: param, code: code))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(envelope), let text = String(data: data, encoding: .utf8) else {
            return #"{"error":{"message":"internal error","type":"server_error","param":null,"code":null}}"#
        }
        return text
    }

    /// The answer, with `extra` headers (Retry-After, x-request-id…).
    func response(headers extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: json)))
    }

    /// The answer as a response head and a body, for a channel handler; `extra` headers as in
    /// ``response(headers:)``, plus `content-length`.
    func parts(headers extra: HTTPFields = [:]) -> (head: HTTPResponse, body: ByteBuffer) {
        let body = ByteBuffer(string: json)
        var headers = extra
        headers[.contentType] = "application/json"
        headers[.contentLength] = "\(body.readableBytes)"
        return (HTTPResponse(status: status, headerFields: headers), body)
    }

    /// The SSE event that ends a stream that failed after bytes were sent: `data: {"error": …}`.
    var serverSentEvent: ByteBuffer { ByteBuffer(string: "data: \(json)\n\n") }

    // MARK: The gateway's errors

    static func invalidRequest(_ message: String, param: String?) -> APIError {
        APIError(status: .badRequest, message: message, type: "invalid_request_error", param: param, code: nil)
    }

    static let unauthorized = APIError(
        status: .unauthorized,
        message: "Missing or invalid API key: send Authorization: Bearer <key>.",
        type: "invalid_request_error",
        param: nil,
        code: "invalid_api_key"
    )

    static func modelNotFound(_ model: String) -> APIError {
        APIError(
            status: .notFound,
            message: "The model '\(model)' does not exist or is not served by this gateway.",
            type: "invalid_request_error",
            param: "model",
            code: "model_not_found"
        )
    }

    static func bodyTooLarge(limit: Int) -> APIError {
        APIError(
            status: .contentTooLarge,
            message: "The request body exceeds the gateway's limit of \(limit) bytes.",
            type: "invalid_request_error",
            param: nil,
            code: "request_too_large"
        )
    }

    static let atCapacity = APIError(
        status: .tooManyRequests,
        message: "The gateway is at capacity; retry after the advised delay.",
        type: "rate_limit_error",
        param: nil,
        code: "rate_limit_exceeded"
    )

    static let noReplica = APIError(
        status: .serviceUnavailable,
        message: "No replica serving this model is available; retry later.",
        type: "server_error",
        param: nil,
        code: "no_replica_available"
    )

    static let shuttingDown = APIError(
        status: .serviceUnavailable,
        message: "The gateway is shutting down; retry on another instance.",
        type: "server_error",
        param: nil,
        code: "shutting_down"
    )

    static let upstreamFailed = APIError(
        status: .badGateway,
        message: "The upstream replica failed before answering.",
        type: "server_error",
        param: nil,
        code: "upstream_error"
    )

    static let upstreamTimeout = APIError(
        status: .gatewayTimeout,
        message: "The upstream replica did not answer in time.",
        type: "server_error",
        param: nil,
        code: "upstream_timeout"
    )

    static let streamInterrupted = APIError(
        status: .badGateway,
        message: "The upstream replica failed while streaming the response.",
        type: "server_error",
        param: nil,
        code: "upstream_stream_error"
    )

    static func notFound(_ path: String) -> APIError {
        APIError(
            status: .notFound,
            message: "Unknown endpoint: \(path)",
            type: "invalid_request_error",
            param: nil,
            code: "unknown_url"
        )
    }

    static func methodNotAllowed(_ method: String, _ path: String) -> APIError {
        APIError(
            status: .methodNotAllowed,
            message: "Method \(method) is not allowed on \(path).",
            type: "invalid_request_error",
            param: nil,
            code: "method_not_allowed"
        )
    }

    static let adminForbidden = APIError(
        status: .forbidden,
        message: "Admin endpoints are disabled: configure auth.adminKey.",
        type: "invalid_request_error",
        param: nil,
        code: "admin_disabled"
    )
}
