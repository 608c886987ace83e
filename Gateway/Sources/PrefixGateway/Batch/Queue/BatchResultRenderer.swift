import Foundation

/// Renders a batch's items into its output and error files, one JSONL line per item, in input order.
///
/// Output line (2xx answers): `{"id", "custom_id", "response": {"status_code", "request_id", "body"},
/// "error": null}`. Error file: other answers in the same shape, and items without an answer as
/// `{"id", "custom_id", "response": null, "error": {"code", "message"}}` (`batch_expired` and
/// `batch_cancelled` for items the batch never ran).
enum BatchResultRenderer {
    /// The two files' contents; empty when a file has no line.
    static func render(batchID: String, rows: [SQLRow]) -> (output: [UInt8], errors: [UInt8]) {
        var output: [UInt8] = []
        var errors: [UInt8] = []
        for row in rows {
            let line = Int(row.int("line") ?? 0)
            let id = BatchIdentifiers.request(batchID: batchID, line: line)
            let customID = row.text("custom_id") ?? ""
            var text = #"{"id":\#(json(id)),"custom_id":\#(json(customID)),"#
            let state = row.text("state") ?? ""
            if let status = row.int("status_code") {
                let body = row.bytes("response") ?? []
                let requestID = row.text("request_id") ?? ""
                text +=
                    #""response":{"status_code":\#(status),"request_id":\#(json(requestID)),"body":\#(embed(body))},"error":null}"#
            } else {
                let (code, message) = errorOf(state: state, row: row)
                text += #""response":null,"error":{"code":\#(json(code)),"message":\#(json(message))}}"#
            }
            text += "\n"
            if state == ItemState.succeeded {
                output += Array(text.utf8)
            } else {
                errors += Array(text.utf8)
            }
        }
        return (output, errors)
    }

    private static func errorOf(state: String, row: SQLRow) -> (String, String) {
        switch state {
        case ItemState.expired:
            return ("batch_expired", "This request could not be executed before the completion window expired.")
        case ItemState.cancelled:
            return ("batch_cancelled", "This request was not executed because the batch was cancelled.")
        default:
            return (
                row.text("error_code") ?? "internal_error",
                row.text("error_message") ?? "The request failed without a response."
            )
        }
    }

    /// A JSON string literal.
    static func json(_ text: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        guard let data = try? encoder.encode(text) else { return "\"\"" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The engine's body as JSON when it is JSON (trailing whitespace trimmed), else as a string.
    private static func embed(_ body: [UInt8]) -> String {
        var end = body.count
        while end > 0, [0x0a, 0x0d, 0x20, 0x09].contains(body[end - 1]) { end -= 1 }
        let trimmed = Array(body[0..<end])
        if !trimmed.isEmpty,
            let value = try? JSONSerialization.jsonObject(with: Data(trimmed), options: [.fragmentsAllowed])
        {
            guard trimmed.contains(0x0a) || trimmed.contains(0x0d) else {
                return String(decoding: trimmed, as: UTF8.self)
            }
            // Pretty-printed: one line again, or the JSONL line would break.
            if let compact = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed]) {
                return String(decoding: compact, as: UTF8.self)
            }
        }
        return json(String(decoding: trimmed, as: UTF8.self))
    }
}
