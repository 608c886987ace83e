import Foundation
import HTTPTypes

/// Who owns files and batches: a SHA-256 digest of the client's API key (the key itself is never stored),
/// or `anonymous` when the gateway has no keys configured (an open gateway: every client shares one
/// space). Another key's files and batches answer 404.
enum BatchOwner {
    /// The owner of a request that passed authentication.
    static func of(_ headers: HTTPFields, keysConfigured: Bool) -> String {
        guard keysConfigured, let value = headers[.authorization] else { return "anonymous" }
        var token = Substring(value)
        if token.lowercased().hasPrefix("bearer ") { token = token.dropFirst("bearer ".count) }
        let key = token.trimmingCharacters(in: .whitespaces)
        return "key:" + HexDigest.sha256(Array(key.utf8))
    }
}
