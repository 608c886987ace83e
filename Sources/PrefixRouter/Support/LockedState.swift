#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A value guarded by a `pthread_mutex_t`: the router's one lock.
///
/// Why not `Synchronization.Mutex`: on Linux (Swift 6.3) its futex-based implementation is invisible to the
/// thread sanitizer, which then reports every access inside `withLock` as a race (a four-task counter behind
/// `Mutex` is enough to see it). The concurrency suite runs under the thread sanitizer in CI, and it can only
/// vouch for the code that ships if the lock that ships is one the sanitizer understands. A pthread mutex is
/// intercepted by the sanitizer, costs the same uncontended (one atomic compare-and-swap each way), and is
/// what swift-nio's `NIOLock` uses for the same reason.
///
/// Two allocations when created (the object and the mutex), none per `withLock`.
final class LockedState<State>: @unchecked Sendable {
    // Safety: `state` is only read or written between pthread_mutex_lock and pthread_mutex_unlock of `mutex`.
    // The mutex makes every access exclusive, so the runtime exclusivity check (two calls and a thread-local
    // access set per `withLock`, about 12% of a route + release) is skipped.
    @exclusivity(unchecked) private var state: State
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init(_ state: State) {
        self.state = state
        mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        #if DEBUG
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_ERRORCHECK))
        #endif
        let result = pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
        precondition(result == 0, "pthread_mutex_init failed: \(result)")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the state. Not reentrant: `body` must not call back into the
    /// same lock.
    @inline(__always)
    func withLock<Result, Failure: Error>(
        _ body: (inout State) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state)
    }
}
