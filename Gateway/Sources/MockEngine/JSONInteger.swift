/// An integer field that reports a non-integral or out-of-range number as a type mismatch at its own path.
///
/// Foundation's `JSONDecoder` on Linux reports `1.5` for an `Int` as unparsable JSON without a coding
/// path; decoding through this type lets the 400 name the field.
struct JSONInteger: Decodable, JSONShapeDescribing {
    /// The decoded value.
    let value: Int

    static let shapeDescription = "an integer"

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int.self) {
            self.value = value
        } else {
            let found = (try? container.decode(Double.self)).map { "the number \($0)" } ?? "another type"
            throw DecodingError.typeMismatch(
                Int.self,
                .init(codingPath: decoder.codingPath, debugDescription: "expected an integer, got \(found)")
            )
        }
    }
}
