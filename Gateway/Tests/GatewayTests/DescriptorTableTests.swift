import Foundation
import ProcessLimits
import Testing

/// The descriptor table is sized once, at start-up, so that it never grows (and stalls an accept for an RCU
/// grace period) under load. The table's growth itself is checked on a fresh `prefix-gateway` process
/// (``ProcessTests``): this process's table is shared by every test, and gateways started here grow it.
@Suite("Descriptor table")
struct DescriptorTableTests {
    /// Whether descriptor `fd` is open in this process.
    static func isOpen(_ fd: Int32) -> Bool { fcntl(fd, F_GETFD) != -1 }

    @Test("the size follows the admission cap: two descriptors per stream plus 1,024, within the soft limit")
    func size() {
        #expect(DescriptorTable.size(forMaxInFlight: 4_096, softLimit: 20_000) == 9_216)
        #expect(DescriptorTable.size(forMaxInFlight: 4_096, softLimit: 1_024) == 1_024)
        #expect(DescriptorTable.size(forMaxInFlight: 10, softLimit: nil) == 1_044)
        #expect(DescriptorTable.size(forMaxInFlight: Int.max, softLimit: nil) == Int.max)
        #expect(DescriptorTable.size(forMaxInFlight: Int.max, softLimit: 65_536) == 65_536)
    }

    #if os(Linux)
    @Test("reserving never replaces a descriptor that is open at the reserved number")
    func reserveKeepsOpenDescriptors() throws {
        let softLimit = try #require(DescriptorTable.softLimit)
        try #require(softLimit > 3_100)
        let file = open("/dev/null", O_RDONLY | O_CLOEXEC)
        try #require(file >= 0)
        defer { close(file) }
        let high = fcntl(file, F_DUPFD_CLOEXEC, 3_000)
        try #require(high >= 3_000)
        defer { close(high) }
        var expected = stat()
        #expect(fstat(high, &expected) == 0)
        _ = DescriptorTable.reserve(Int(high) + 1)
        var after = stat()
        #expect(fstat(high, &after) == 0)
        #expect(after.st_ino == expected.st_ino && after.st_dev == expected.st_dev)
        #expect(!Self.isOpen(high + 1), "the copy that grew the table is closed")
    }

    @Test("the soft limit is raised towards what is asked, within the hard limit, and never lowered")
    func softLimit() throws {
        let before = try #require(DescriptorTable.softLimit)
        #expect(DescriptorTable.raiseSoftLimit(to: 16) == before)
        var limit = rlimit()
        try #require(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0)
        let hard = limit.rlim_max == rlim_t.max ? Int.max : Int(limit.rlim_max)
        let after = try #require(DescriptorTable.raiseSoftLimit(to: before + 1))
        #expect(after == min(before + 1, hard))
        #expect(DescriptorTable.raiseSoftLimit(to: Int.max) ?? 0 <= hard)
    }

    #endif
}
