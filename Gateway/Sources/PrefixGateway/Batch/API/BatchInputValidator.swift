import Foundation

/// Checks an input file against a batch's endpoint and the models served, line by line, and turns valid
/// lines into queue items. Every problem is reported with its 1-based line (OpenAI's
/// `errors.data[{code, message, param, line}]`); one invalid line fails the whole batch, so nothing is
/// half-enqueued.
struct BatchInputValidator {
    /// The batch's endpoint; every line's `url` must equal it.
    var endpoint: CompletionEndpoint
    /// The models the gateway serves.
    var models: Set<String>
    /// The most lines a batch may have.
    var maxRequests: Int
    /// vLLM's `priority`, set on lines that do not set their own.
    var priority: Int
    /// Errors reported at most (the rest are counted in the last message).
    var maxErrors = 100

    /// The items, or the errors.
    enum Outcome {
        case items([NewBatchItem])
        case errors([BatchLineError])
    }

    func validate(_ content: [UInt8]) -> Outcome {
        var items: [NewBatchItem] = []
        var errors: [BatchLineError] = []
        var more = 0
        var seen: [String: Int] = [:]
        var lines = content.split(separator: 0x0a, omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }  // the file's final newline
        func report(_ error: BatchLineError) {
            if errors.count < maxErrors { errors.append(error) } else { more += 1 }
        }
        if lines.isEmpty {
            return .errors([BatchLineError(code: "empty_file", message: "The input file has no request line.")])
        }
        if lines.count > maxRequests {
            return .errors([
                BatchLineError(
                    code: "too_many_requests",
                    message: "The input file has \(lines.count) lines; a batch may have at most \(maxRequests)."
                )
            ])
        }
        for (index, raw) in lines.enumerated() {
            let number = index + 1
            var bytes = Array(raw)
            if bytes.last == 0x0d { bytes.removeLast() }
            switch check(bytes, line: number) {
            case .failure(let error): report(error)
            case .success(let item):
                if let first = seen[item.customID] {
                    report(
                        BatchLineError(
                            code: "duplicate_custom_id",
                            message:
                                "custom_id '\(item.customID)' is used on line \(first) and again on line \(number).",
                            param: "custom_id",
                            line: number
                        )
                    )
                } else {
                    seen[item.customID] = number
                    items.append(item)
                }
            }
        }
        if more > 0, var last = errors.popLast() {
            last.message += " (\(more) more errors not listed)"
            errors.append(last)
        }
        return errors.isEmpty ? .items(items) : .errors(errors)
    }

    private func check(_ bytes: [UInt8], line: Int) -> Result<NewBatchItem, BatchLineError> {
        func fail(_ code: String, _ message: String, param: String? = nil) -> Result<NewBatchItem, BatchLineError> {
            .failure(BatchLineError(code: code, message: "Line \(line): \(message)", param: param, line: line))
        }
        guard !bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) else {
            return fail("invalid_json_line", "the line is empty; expected a JSON object.")
        }
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
                return fail("invalid_json_line", "expected a JSON object.")
            }
            object = parsed
        } catch {
            return fail("invalid_json_line", "the line is not valid JSON.")
        }
        guard let customID = object["custom_id"] as? String, !customID.isEmpty else {
            return fail("missing_required_parameter", "custom_id: expected a non-empty string.", param: "custom_id")
        }
        guard customID.utf8.count <= 512 else {
            return fail("invalid_custom_id", "custom_id: at most 512 bytes.", param: "custom_id")
        }
        guard let method = object["method"] as? String, method == "POST" else {
            return fail("invalid_method", "method: expected \"POST\".", param: "method")
        }
        guard let url = object["url"] as? String else {
            return fail("missing_required_parameter", "url: expected \(endpoint.rawValue).", param: "url")
        }
        guard url == endpoint.rawValue else {
            return fail(
                "mismatched_endpoint",
                "url: '\(url)' differs from the batch's endpoint \(endpoint.rawValue).",
                param: "url"
            )
        }
        guard var body = object["body"] as? [String: Any] else {
            return fail("missing_required_parameter", "body: expected a JSON object.", param: "body")
        }
        body["stream"] = false  // results are stored whole
        body["stream_options"] = nil
        if body["priority"] == nil { body["priority"] = priority }
        guard let encoded = try? JSONSerialization.data(withJSONObject: body) else {
            return fail("invalid_body", "body: cannot be encoded.", param: "body")
        }
        let upstream = [UInt8](encoded)
        let request: CompletionRequest
        do {
            request = try CompletionRequest.decode(upstream, endpoint: endpoint)
        } catch {
            let field = error.field.map { "body.\($0)" } ?? "body"
            return .failure(
                BatchLineError(
                    code: "invalid_body",
                    message: "Line \(line): \(field): \(error.message)",
                    param: field,
                    line: line
                )
            )
        }
        guard models.contains(request.model) else {
            return fail(
                "model_not_found",
                "body.model: the model '\(request.model)' is not served by this gateway.",
                param: "body.model"
            )
        }
        return .success(NewBatchItem(line: line, customID: customID, model: request.model, body: upstream))
    }
}
