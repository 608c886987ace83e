import Foundation
import NIOHTTP1
import NIOPosix
import Testing

@testable import PrefixGateway

/// The gateway's listeners (``GatewayServer``): one `SO_REUSEPORT` socket per event loop, and Hummingbird's
/// endpoints answered as Hummingbird's own server answers them.
@Suite("Listeners")
struct ListenerTests {
    #if os(Linux)
    /// Listening TCP sockets on `port` (IPv4), from `/proc/net/tcp`.
    static func listeningSockets(port: Int) throws -> Int {
        let table = try String(contentsOfFile: "/proc/net/tcp", encoding: .utf8)
        let local = ":" + String(format: "%04X", port)
        return table.split(separator: "\n").dropFirst().filter { line in
            let fields = line.split(separator: " ")
            return fields.count > 3 && fields[1].hasSuffix(local) && fields[3] == "0A"
        }.count
    }

    @Test("one listening socket per event loop on the configured port; all closed after a graceful shutdown")
    func socketPerLoop() async throws {
        let loops = Array(MultiThreadedEventLoopGroup.singleton.makeIterator()).count
        var port = 0
        try await withGateway { harness in
            port = harness.port
            #expect(try Self.listeningSockets(port: harness.port) == loops)
            // New connections (one per request) are spread over the sockets by the kernel: all are answered.
            for _ in 0..<40 {
                let (status, _, _) = try await harness.get("/health", headers: [("connection", "close")])
                #expect(status == 200)
            }
        }
        #expect(try Self.listeningSockets(port: port) == 0)
    }
    #endif

    @Test("Hummingbird's endpoints carry a Date header in IMF-fixdate form")
    func dateHeader() async throws {
        try await withGateway { harness in
            let (status, headers, _) = try await harness.get("/health")
            #expect(status == 200)
            let date = try #require(headers.first(name: "date"))
            let imfFixdate = #"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$"#
            #expect(date.range(of: imfFixdate, options: .regularExpression) != nil, "\(date)")
        }
    }

    @Test("dates are formatted as RFC 9110's example")
    func dateFormat() {
        var second: time_t = 784_111_777
        #expect(HTTPDate.format(&second) == "Sun, 06 Nov 1994 08:49:37 GMT")
    }
}
