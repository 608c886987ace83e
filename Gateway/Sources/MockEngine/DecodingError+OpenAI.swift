/// Turns a body's decoding failure into the 400 OpenAI returns, naming the field.
extension OpenAIError {
    init(decoding error: DecodingError) {
        switch error {
        case .keyNotFound(let key, let context):
            let param = Self.path(context.codingPath + [key])
            self = .invalidRequest(
                "Missing required parameter: '\(param)'.",
                param: param,
                code: "missing_required_parameter"
            )
        case .typeMismatch(let type, let context):
            let param = Self.path(context.codingPath)
            if param.isEmpty {
                self = .invalidRequest("The request body must be a JSON object.", param: nil, code: "invalid_json")
            } else {
                self = .invalidRequest(
                    "Invalid type for '\(param)': expected \(Self.describe(type)).",
                    param: param,
                    code: "invalid_type"
                )
            }
        case .valueNotFound(let type, let context):
            let param = Self.path(context.codingPath)
            self = .invalidRequest(
                "Invalid type for '\(param)': expected \(Self.describe(type)), but got null instead.",
                param: param.isEmpty ? nil : param,
                code: "invalid_type"
            )
        case .dataCorrupted(let context):
            let param = Self.path(context.codingPath)
            if param.isEmpty {
                self = .invalidRequest(
                    "We could not parse the JSON body of your request. The body must be a JSON object.",
                    param: nil,
                    code: "invalid_json"
                )
            } else {
                self = .invalidRequest(
                    "Invalid value for '\(param)': \(context.debugDescription)",
                    param: param,
                    code: "invalid_value"
                )
            }
        @unknown default:
            self = .invalidRequest("Invalid request body.", param: nil, code: "invalid_json")
        }
    }

    /// `messages[0].content`-style path of a coding path.
    static func path(_ codingPath: [any CodingKey]) -> String {
        var path = ""
        for key in codingPath {
            if let index = key.intValue {
                path += "[\(index)]"
            } else {
                path += path.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return path
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type: "an integer"
        case is Bool.Type: "a boolean"
        case is Double.Type: "a number"
        case is [Any].Type: "an array"
        case is [String: Any].Type: "an object"
        case let described as any JSONShapeDescribing.Type: described.shapeDescription
        default: "\(type)"
        }
    }
}

/// A body type whose expected JSON shape is worth naming in a type-mismatch message.
protocol JSONShapeDescribing {
    /// The shape, e.g. "a string or an array of content parts".
    static var shapeDescription: String { get }
}
