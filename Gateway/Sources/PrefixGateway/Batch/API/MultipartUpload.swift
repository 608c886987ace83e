import Foundation
import HTTPTypes
import MultipartKit
import NIOCore
import NIOHTTP1

/// A `multipart/form-data` upload (`POST /v1/files`): the `file` part's name and bytes and the `purpose`
/// field, parsed with multipart-kit.
struct MultipartUpload {
    var purpose: String?
    var filename: String?
    var content: ByteBuffer?

    /// Why an upload could not be read.
    struct Invalid: Error {
        var message: String
        var param: String?
    }

    /// Parses `body` as the form `contentType` (`multipart/form-data; boundary=…`) describes.
    static func parse(contentType: String?, body: ByteBuffer) throws(Invalid) -> MultipartUpload {
        guard let contentType, contentType.lowercased().hasPrefix("multipart/form-data") else {
            throw Invalid(message: "Expected a multipart/form-data body with 'file' and 'purpose' fields.")
        }
        guard let boundary = parameter("boundary", in: contentType), !boundary.isEmpty, boundary.count <= 200 else {
            throw Invalid(message: "The multipart/form-data content type has no boundary.")
        }
        let parser = MultipartParser(boundary: boundary)
        var parts: [MultipartPart] = []
        var headers = HTTPHeaders()
        var partBody = ByteBuffer()
        parser.onHeader = { name, value in headers.replaceOrAdd(name: name, value: value) }
        parser.onBody = { chunk in partBody.writeBuffer(&chunk) }
        parser.onPartComplete = {
            parts.append(MultipartPart(headers: headers, body: partBody))
            headers = HTTPHeaders()
            partBody = ByteBuffer()
        }
        do {
            try parser.execute(body)
        } catch {
            throw Invalid(message: "The multipart/form-data body is malformed.")
        }
        var upload = MultipartUpload()
        for part in parts {
            guard let disposition = part.headers.first(name: "content-disposition") else { continue }
            switch parameter("name", in: disposition) {
            case "purpose": upload.purpose = String(buffer: part.body)
            case "file":
                upload.filename = parameter("filename", in: disposition) ?? "upload.jsonl"
                upload.content = part.body
            default: continue
            }
        }
        return upload
    }

    /// A parameter of a header value (`boundary=…`, `name="…"`), unquoted.
    static func parameter(_ name: String, in header: String) -> String? {
        for piece in header.split(separator: ";").dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == name else { continue }
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
                value = String(value.dropFirst().dropLast())
            }
            return value
        }
        return nil
    }
}
