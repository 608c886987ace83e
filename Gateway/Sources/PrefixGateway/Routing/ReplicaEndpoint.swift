import NIOCore
public import PrefixRouter

/// A configured replica, resolved: its id in the router, where to send requests, what it serves, and the
/// `Authorization` header the gateway sends it.
public struct ReplicaEndpoint: Sendable, Hashable {
    /// The replica's id in the router (``ReplicaConfiguration/id``, or `host:port`).
    public let id: ReplicaID
    /// `scheme://host:port` plus any base path, without a trailing slash or `/v1`.
    public let baseURL: String
    /// The models it serves.
    public let models: Set<String>
    /// Its relative capacity.
    public let weight: Int
    /// `Bearer <apiKey>`, or nil.
    let authorization: String?
    /// Where the gateway connects: the host (an IPv6 address without brackets), the port, and whether over
    /// TLS (`https`).
    let host: String
    let port: Int
    let tls: Bool
    /// `host` and `port` as a socket address when `host` is an IP address literal (parsed once, here): the
    /// gateway connects to it without name resolution and sends no TLS server name for it. nil for a name.
    let address: SocketAddress?
    /// The base path (empty, or `/prefix` without a trailing slash), put before `/v1/…`.
    let basePath: String
    /// The `Host` header: `host:port` as written in the URL.
    let hostHeader: String

    /// A problem with one field of a replica's configuration.
    struct Invalid: Error {
        var field: String
        var message: String
    }

    /// Resolves a replica's configuration.
    ///
    /// - Throws: ``Invalid`` naming the field (`url`, `id`) when the URL is not `http(s)://host[:port][/path]`.
    init(_ configuration: ReplicaConfiguration) throws(Invalid) {
        let url = configuration.url
        let scheme: String
        let rest: Substring
        if url.hasPrefix("http://") {
            scheme = "http"
            rest = url.dropFirst("http://".count)
        } else if url.hasPrefix("https://") {
            scheme = "https"
            rest = url.dropFirst("https://".count)
        } else {
            throw Invalid(field: "url", message: "expected http://host:port or https://host:port, found '\(url)'")
        }
        let authority = rest.prefix { $0 != "/" }
        var path = String(rest.dropFirst(authority.count))
        while path.hasSuffix("/") { path.removeLast() }
        if path.hasSuffix("/v1") { path.removeLast(3) }
        guard !authority.isEmpty, !authority.contains("@"), !authority.contains(where: \.isWhitespace),
            !path.contains("?"), !path.contains("#")
        else {
            throw Invalid(field: "url", message: "expected http://host:port[/path], found '\(url)'")
        }
        // host:port, [v6]:port, or a host alone (default port of the scheme).
        let hostPart: Substring
        let portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw Invalid(field: "url", message: "unclosed IPv6 address in '\(url)'")
            }
            hostPart = authority[...close]
            let after = authority[authority.index(after: close)...]
            portPart = after.isEmpty ? nil : (after.hasPrefix(":") ? after.dropFirst() : nil)
            if !after.isEmpty && portPart == nil {
                throw Invalid(field: "url", message: "expected a port after the IPv6 address in '\(url)'")
            }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        } else {
            hostPart = authority
            portPart = nil
        }
        guard !hostPart.isEmpty else { throw Invalid(field: "url", message: "expected a host in '\(url)'") }
        let port: Int
        if let portPart {
            guard let value = Int(portPart), (1...65_535).contains(value) else {
                throw Invalid(field: "url", message: "expected a port in 1...65535 in '\(url)'")
            }
            port = value
        } else {
            port = scheme == "https" ? 443 : 80
        }
        let idText = configuration.id ?? "\(hostPart):\(port)"
        guard !idText.isEmpty, !idText.contains("/"), idText.allSatisfy({ !$0.isWhitespace }) else {
            throw Invalid(field: "id", message: "expected a non-empty name without '/' or spaces, found '\(idText)'")
        }
        self.id = ReplicaID(idText)
        self.baseURL = "\(scheme)://\(hostPart):\(port)\(path)"
        self.models = Set(configuration.models)
        self.weight = configuration.weight
        self.authorization = configuration.apiKey.map { "Bearer \($0)" }
        self.host = hostPart.hasPrefix("[") ? String(hostPart.dropFirst().dropLast()) : String(hostPart)
        self.port = port
        self.tls = scheme == "https"
        self.address = try? SocketAddress(ipAddress: self.host, port: port)
        self.basePath = path
        self.hostHeader = "\(hostPart):\(port)"
    }

    /// The URL of an API path on this replica (`/v1/chat/completions`, `/health`).
    func url(_ path: String) -> String { baseURL + path }
}
