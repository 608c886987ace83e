import Foundation

extension GatewayConfiguration {
    /// Reads and validates a JSON configuration file.
    ///
    /// - Throws: ``GatewayConfigurationError`` naming the file and, for a field that is missing, of the wrong
    ///   type, unknown or out of range, its path (`replicas[1].weight`); for malformed JSON, the parser's
    ///   message (which gives the line and column).
    public static func load(contentsOf path: String) throws(GatewayConfigurationError) -> GatewayConfiguration {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw GatewayConfigurationError(
                source: path,
                field: "",
                "cannot read the file: \(error.localizedDescription)"
            )
        }
        let configuration = try decode(data, source: path)
        try configuration.validate(source: path)
        return configuration
    }

    /// Decodes a JSON configuration (without validating it).
    ///
    /// - Throws: ``GatewayConfigurationError`` naming `source` and the field.
    static func decode(_ data: Data, source: String) throws(GatewayConfigurationError) -> GatewayConfiguration {
        do {
            return try JSONDecoder().decode(GatewayConfiguration.self, from: data)
        } catch let error as DecodingError {
            throw GatewayConfigurationError(decoding: error, source: source)
        } catch {
            throw GatewayConfigurationError(source: source, field: "", "\(error)")
        }
    }
}

extension GatewayConfigurationError {
    /// Turns a `DecodingError` into an error naming the field path (`replicas[1].url`) and the problem.
    init(decoding error: DecodingError, source: String) {
        func path(_ codingPath: [any CodingKey]) -> String {
            var text = ""
            for key in codingPath {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += text.isEmpty ? key.stringValue : "." + key.stringValue
                }
            }
            return text
        }
        switch error {
        case .keyNotFound(let key, let context):
            self.init(source: source, field: path(context.codingPath + [key]), "required field is missing")
        case .typeMismatch(let type, let context):
            self.init(source: source, field: path(context.codingPath), "expected \(Self.jsonName(of: type))")
        case .valueNotFound(let type, let context):
            self.init(
                source: source,
                field: path(context.codingPath),
                "expected \(Self.jsonName(of: type)), found null"
            )
        case .dataCorrupted(let context):
            let underlying = context.underlyingError.map { " (\($0))" } ?? ""
            self.init(source: source, field: path(context.codingPath), context.debugDescription + underlying)
        @unknown default:
            self.init(source: source, field: "", "\(error)")
        }
    }

    private static func jsonName(of type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        case is [String].Type: "an array of strings"
        default: "\(type)"
        }
    }
}
