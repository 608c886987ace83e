import Foundation
import NIOHTTP1
import NIOPosix
import ProcessLimits
import Testing

@testable import PrefixGateway

/// The gateway's listeners (``GatewayServer``): one `SO_REUSEPORT` socket per event loop, and Hummingbird's
/// endpoints answered as Hummingbird's own server answers them.
@Suite("Listeners")
struct ListenerTests {
    #if os(Linux)
    /// This process's listening sockets bound to `port`: every open descriptor that is a socket accepting
    /// connections on that port (the gateway runs in the test process, so its listeners are ours).
    static func listeningSockets(port: Int) -> Int {
        var count = 0
        for fd in Int32(0)..<Int32(DescriptorTable.softLimit ?? 1_024) {
            var accepting: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &length) == 0, accepting == 1 else {
                continue
            }
            var address = sockaddr_storage()
            var addressLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let named = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &addressLength) }
            }
            guard named == 0, Int32(address.ss_family) == AF_INET else { continue }
            let boundPort = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            }
            if boundPort == port { count += 1 }
        }
        return count
    }

    @Test("one listening socket per event loop on the configured port; all closed after a graceful shutdown")
    func socketPerLoop() async throws {
        let loops = Array(MultiThreadedEventLoopGroup.singleton.makeIterator()).count
        var port = 0
        try await withGateway { harness in
            port = harness.port
            #expect(Self.listeningSockets(port: harness.port) == loops)
            // New connections (one per request) are spread over the sockets by the kernel: all are answered.
            for _ in 0..<40 {
                let (status, _, _) = try await harness.get("/health", headers: [("connection", "close")])
                #expect(status == 200)
            }
        }
        #expect(Self.listeningSockets(port: port) == 0)
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
