#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's file-descriptor table, sized once at start-up so that it never grows under load.
///
/// Linux grows a process's descriptor table by doubling it (64, 128, 256, … entries) when a new descriptor
/// does not fit. In a multi-threaded process the old table may still be read by other threads, so the kernel
/// waits for an RCU grace period before it frees it (`expand_fdtable` in `fs/file.c`): the `accept4`,
/// `socket` or `open` that needed the room sleeps for that period, 9–14 ms on the machines measured
/// (PrefixRouter's RESULTS.md, issue 9). When that call is the listening socket's accept, every connection
/// that arrives in the meantime waits in the kernel's accept queue, and a streaming gateway sees the stall at
/// the 256th, 512th, 1,024th … connection as a time-to-first-byte tail. Single-threaded servers (nginx's
/// workers) do not wait: the grace period is only needed when the table is shared.
///
/// Reserving the table up front pays the growth once, before the first connection: the table never shrinks,
/// and an empty slot costs the kernel 8 bytes (64 K descriptors: 512 KiB of kernel memory, not the
/// process's RSS).
public enum DescriptorTable {
    /// The outcome of ``reserve(_:)``.
    public enum Reservation: Equatable, Sendable {
        /// The table now has room for at least this many descriptors.
        case reserved(Int)
        /// Nothing to do (0 asked) or not supported on this system.
        case skipped
        /// The system refused; the table grows on demand as before.
        case failed(errno: Int32)
    }

    /// `RLIMIT_NOFILE` as `getrlimit` takes it (Glibc imports it as an enum).
    private static var openFilesResource: Int32 {
        #if canImport(Glibc)
        Int32(RLIMIT_NOFILE.rawValue)
        #else
        Int32(RLIMIT_NOFILE)
        #endif
    }

    /// The process's soft limit on open descriptors (`RLIMIT_NOFILE`; `RLIM_INFINITY` is `rlim_t.max`), or nil
    /// when unknown.
    public static var softLimit: Int? {
        var limit = rlimit()
        guard getrlimit(openFilesResource, &limit) == 0 else { return nil }
        if limit.rlim_cur == rlim_t.max { return Int(Int32.max) }
        return Int(clamping: limit.rlim_cur)
    }

    /// Raises the soft limit on open descriptors towards `wanted`, up to the hard limit (as Go's runtime does
    /// at start-up); never lowers it.
    ///
    /// - Returns: the soft limit afterwards, or nil when unknown.
    @discardableResult
    public static func raiseSoftLimit(to wanted: Int) -> Int? {
        var limit = rlimit()
        guard getrlimit(openFilesResource, &limit) == 0 else { return nil }
        let wantedLimit = rlim_t(clamping: max(wanted, 0))
        if limit.rlim_cur != rlim_t.max, limit.rlim_cur < wantedLimit {
            var raised = limit
            raised.rlim_cur = limit.rlim_max == rlim_t.max ? wantedLimit : min(wantedLimit, limit.rlim_max)
            if setrlimit(openFilesResource, &raised) != 0 { return softLimit }
        }
        return softLimit
    }

    /// Raises the soft limit towards `count` (within the hard limit), then reserves the table for as many
    /// descriptors as the soft limit then allows, up to `count`. For tools that know how many connections
    /// they will hold; the gateway sizes its own from its admission cap.
    ///
    /// - Complexity: O(`count`) once, in the kernel.
    @discardableResult
    public static func prepare(for count: Int) -> Reservation {
        let limit = raiseSoftLimit(to: count)
        return reserve(min(count, limit ?? count))
    }

    /// The size to reserve for a gateway that admits `maxInFlight` streams: two descriptors per stream
    /// (client and replica) plus 1,024 for idle keep-alive clients, health checks, the Batch API's store
    /// and the process's own files, capped by the soft limit (a descriptor at or past it can never be
    /// opened).
    ///
    /// - Complexity: O(1).
    public static func size(forMaxInFlight maxInFlight: Int, softLimit: Int?) -> Int {
        let target = maxInFlight > (Int.max - 1_024) / 2 ? Int.max : 2 * max(maxInFlight, 0) + 1_024
        return min(target, softLimit ?? target)
    }

    /// Grows the table to hold descriptors `0 ..< count`, by duplicating a descriptor to the lowest free
    /// number at or above `count − 1` (`fcntl(F_DUPFD_CLOEXEC)`, which never replaces an open descriptor)
    /// and closing the copy at once.
    ///
    /// - Parameter count: the number of descriptors to make room for; at most the soft limit.
    /// - Returns: what was done. A failure leaves the process as it was.
    /// - Complexity: O(`count`) once, in the kernel (the table is copied into its new size).
    public static func reserve(_ count: Int) -> Reservation {
        #if os(Linux)
        guard count > 1, count <= Int(Int32.max) else { return .skipped }
        let probe = open("/dev/null", O_RDONLY | O_CLOEXEC)
        guard probe >= 0 else { return .failed(errno: errno) }
        defer { close(probe) }
        let copy = fcntl(probe, F_DUPFD_CLOEXEC, Int32(count - 1))
        guard copy >= 0 else { return .failed(errno: errno) }
        close(copy)
        return .reserved(count)
        #else
        return .skipped
        #endif
    }
}
