import Crypto
import Foundation

/// SHA-256 digests as lower-case hex, for owners (digests of API keys) and request fingerprints.
enum HexDigest {
    /// The SHA-256 of `bytes`, 64 hex digits.
    static func sha256(_ bytes: some DataProtocol) -> String {
        SHA256.hash(data: bytes).map { byte in
            let text = String(byte, radix: 16)
            return byte < 16 ? "0" + text : text
        }.joined()
    }
}
