#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A value guarded by a `pthread_mutex_t`: the router's locks.
///
/// Why not `Synchronization.Mutex`: on Linux (Swift 6.3) its futex-based implementation is invisible to the
/// thread sanitizer, which then reports every access inside `withLock` as a race (a four-task counter behind
/// `Mutex` is enough to see it). The concurrency suite runs under the thread sanitizer in CI, and it can only
/// vouch for the code that ships if the lock that ships is one the sanitizer understands. A pthread mutex is
/// intercepted by the sanitizer, costs the same uncontended (one atomic compare-and-swap each way), and is
/// what swift-nio's `NIOLock` uses for the same reason.
///
/// Every pthread return code is checked, as `NIOLock` does: a failing lock or unlock is a programming error
/// (never caused by user input) and stops the process with the code rather than running the body unlocked.
/// In DEBUG builds the mutex is of the error-checking kind, so re-entering the lock from inside its own
/// body (`EDEADLK`) or unlocking from another thread (`EPERM`) stops at once with a message; in release
/// builds re-entry would deadlock, which is why nothing the library runs under the lock can call back into
/// the router (strategies see a ``Fleet`` value, never the router).
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
        var result = pthread_mutexattr_init(&attributes)
        precondition(result == 0, "pthread_mutexattr_init failed: \(result)")
        #if DEBUG
        result = pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_ERRORCHECK))
        precondition(result == 0, "pthread_mutexattr_settype failed: \(result)")
        #endif
        result = pthread_mutex_init(mutex, &attributes)
        precondition(result == 0, "pthread_mutex_init failed: \(result)")
        result = pthread_mutexattr_destroy(&attributes)
        precondition(result == 0, "pthread_mutexattr_destroy failed: \(result)")
    }

    deinit {
        let result = pthread_mutex_destroy(mutex)
        precondition(result == 0, "pthread_mutex_destroy failed: \(result)")
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the state. Not reentrant: `body` must not call back into the
    /// same lock (DEBUG builds stop with a message when it does).
    @inline(__always)
    func withLock<Result, Failure: Error>(
        _ body: (inout State) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        let locked = pthread_mutex_lock(mutex)
        if locked != 0 { lockFailed(locked) }
        defer {
            let unlocked = pthread_mutex_unlock(mutex)
            if unlocked != 0 { unlockFailed(unlocked) }
        }
        return try body(&state)
    }

    @inline(never)
    private func lockFailed(_ code: Int32) -> Never {
        if code == EDEADLK {
            preconditionFailure("LockedState: the lock was re-entered from inside its own critical section (EDEADLK)")
        }
        preconditionFailure("LockedState: pthread_mutex_lock failed: \(code)")
    }

    @inline(never)
    private func unlockFailed(_ code: Int32) -> Never {
        preconditionFailure("LockedState: pthread_mutex_unlock failed: \(code) (not the owner, or not locked)")
    }
}
