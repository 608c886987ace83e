import Crypto
import Foundation

/// Standard Webhooks signatures (standardwebhooks.com): `webhook-signature: v1,<base64 HMAC-SHA256 of
/// "<webhook-id>.<webhook-timestamp>.<body>">`, keyed with the secret's bytes (`whsec_<base64>`: the
/// decoded part; any other secret: its UTF-8 bytes).
struct WebhookSigner: Sendable {
    let key: SymmetricKey

    init(secret: String) {
        if secret.hasPrefix("whsec_"), let decoded = Data(base64Encoded: String(secret.dropFirst("whsec_".count))) {
            key = SymmetricKey(data: decoded)
        } else {
            key = SymmetricKey(data: Data(secret.utf8))
        }
    }

    /// The signature value for a message.
    func signature(id: String, timestamp: Int64, body: String) -> String {
        let content = Data("\(id).\(timestamp).\(body)".utf8)
        let mac = HMAC<SHA256>.authenticationCode(for: content, using: key)
        return "v1," + Data(mac).base64EncodedString()
    }

    /// `webhook-id`, `webhook-timestamp` (seconds) and `webhook-signature`.
    func headers(id: String, timestamp: Int64, body: String) -> [(String, String)] {
        [
            ("webhook-id", id), ("webhook-timestamp", String(timestamp)),
            ("webhook-signature", signature(id: id, timestamp: timestamp, body: body)),
        ]
    }
}
