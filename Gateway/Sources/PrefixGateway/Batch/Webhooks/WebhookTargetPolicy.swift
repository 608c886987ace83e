import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Refuses webhook URLs that resolve to loopback, private, link-local, CGNAT or unspecified addresses
/// (SSRF: a gateway inside a private network must not be made to call its neighbours), unless the host (or
/// `host:port`) is on the allow-list.
struct WebhookTargetPolicy: Sendable {
    var allowPrivateHosts: [String]

    /// Why a URL was refused.
    struct Refused: Error, CustomStringConvertible {
        var description: String
    }

    /// Throws ``Refused`` for a URL that is not http(s), does not resolve, or resolves to a private address
    /// without being allowed.
    func check(_ text: String) async throws {
        guard let url = URLComponents(string: text), let scheme = url.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty
        else { throw Refused(description: "webhook URL \(text): expected http(s)://host/…") }
        let port = url.port ?? (scheme == "https" ? 443 : 80)
        let lowered = host.lowercased()
        if allowPrivateHosts.contains(where: { $0.lowercased() == lowered || $0.lowercased() == "\(lowered):\(port)" })
        {
            return
        }
        let addresses = try await Self.resolve(host)
        guard !addresses.isEmpty else { throw Refused(description: "webhook host \(host) does not resolve") }
        for address in addresses where Self.isPrivate(address) {
            throw Refused(
                description:
                    "webhook host \(host) resolves to the non-public address \(address); name it in batch.webhook.allowPrivateHosts to allow it"
            )
        }
    }

    /// The host's addresses, as text.
    static func resolve(_ host: String) async throws -> [String] {
        try await Task.detached {
            var hints = addrinfo()
            hints.ai_family = AF_UNSPEC
            #if canImport(Glibc)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            #else
            hints.ai_socktype = SOCK_STREAM
            #endif
            var list: UnsafeMutablePointer<addrinfo>?
            guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else {
                throw Refused(description: "webhook host \(host) does not resolve")
            }
            defer { freeaddrinfo(first) }
            var result: [String] = []
            var cursor: UnsafeMutablePointer<addrinfo>? = first
            while let entry = cursor {
                var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
                if let address = entry.pointee.ai_addr,
                    getnameinfo(
                        address,
                        entry.pointee.ai_addrlen,
                        &buffer,
                        socklen_t(buffer.count),
                        nil,
                        0,
                        NI_NUMERICHOST
                    )
                        == 0
                {
                    result.append(
                        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    )
                }
                cursor = entry.pointee.ai_next
            }
            return result
        }.value
    }

    /// Whether a numeric address is loopback, private, link-local, CGNAT, unique-local or unspecified.
    static func isPrivate(_ address: String) -> Bool {
        if address.contains(":") {
            let lower = address.lowercased()
            if lower == "::1" || lower == "::" { return true }
            if lower.hasPrefix("fe80:") || lower.hasPrefix("fc") || lower.hasPrefix("fd") { return true }
            if lower.hasPrefix("::ffff:") { return isPrivate(String(lower.dropFirst("::ffff:".count))) }
            return false
        }
        let parts = address.split(separator: ".").compactMap { Int($0) }
        guard parts.count == 4 else { return true }
        switch (parts[0], parts[1]) {
        case (0, _), (10, _), (127, _): return true
        case (169, 254), (192, 168): return true
        case (172, 16...31): return true
        case (100, 64...127): return true
        default: return false
        }
    }
}
