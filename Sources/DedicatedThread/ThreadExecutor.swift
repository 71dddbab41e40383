import Foundation

/// A serial executor backed by one dedicated thread, for actors that wrap a blocking C
/// handle: a libpq connection (`PostgresConnection`) or a libcurl easy handle (`HTTPSession`).
///
/// Both libraries allow one thread at a time per handle, and their calls block while the
/// server works. Running the actor on its own thread keeps those calls off Swift's
/// cooperative pool, which has only as many threads as cores (two on our machines).
/// `DispatchSerialQueue` is the usual choice on Darwin, but swift-corelibs-libdispatch on
/// Linux does not make it (or `DispatchQueue`) a `SerialExecutor`, so we own a thread.
public final class ThreadExecutor: SerialExecutor, @unchecked Sendable {
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var pending: [UnownedJob] = []
    private var stopping = false
    private var threadID: pthread_t?

    /// Starts the thread (`stackSize` in bytes; nil keeps the platform's default). The thread
    /// holds the executor until `shutdown()`, so jobs queued by a closing actor still run.
    public init(name: String, stackSize: Int? = nil) {
        let thread = Thread { [self] in run() }
        thread.name = name
        if let stackSize { thread.stackSize = stackSize }
        thread.start()
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        pending.append(job)
        condition.signal()
        condition.unlock()
    }

    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Lets `assumeIsolated` and `preconditionIsolated` on the actor succeed only on this thread.
    public func checkIsolated() {
        precondition(isCurrentThread, "not on the handle's thread")
    }

    /// Whether the caller runs on this executor's thread: every call into the C handle
    /// asserts it (cheap, and only in debug builds).
    public var isCurrentThread: Bool {
        condition.lock()
        let owner = threadID
        condition.unlock()
        return owner.map { pthread_equal($0, pthread_self()) != 0 } ?? false
    }

    /// Lets the thread finish the jobs already queued, then exit.
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        condition.lock()
        threadID = pthread_self()
        condition.unlock()
        let executor = asUnownedSerialExecutor()
        while true {
            condition.lock()
            while pending.isEmpty && !stopping { condition.wait() }
            let batch = pending
            pending.removeAll(keepingCapacity: true)
            let done = batch.isEmpty && stopping
            condition.unlock()
            if done { return }
            for job in batch { job.runSynchronously(on: executor) }
        }
    }
}
