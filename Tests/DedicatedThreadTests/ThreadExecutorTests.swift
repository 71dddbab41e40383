import DedicatedThread
import Foundation
import Testing

/// An actor on its own thread, as `PostgresConnection` and `HTTPSession` are.
private actor Handle {
    let executor = ThreadExecutor(name: "test-handle")

    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    deinit { executor.shutdown() }

    /// The thread this job ran on, and whether the executor says it is its own.
    func whereAmI() -> (thread: ObjectIdentifier, isOwn: Bool) {
        (ObjectIdentifier(Thread.current), executor.isCurrentThread)
    }
}

@Suite("Thread executor")
struct ThreadExecutorTests {
    @Test("every job of an actor on a ThreadExecutor runs on one thread, which the executor knows as its own")
    func jobsRunOnOneThread() async throws {
        let handle = Handle()
        let places = await withTaskGroup(of: (thread: ObjectIdentifier, isOwn: Bool).self) { group in
            for _ in 0..<32 { group.addTask { await handle.whereAmI() } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(places.count == 32)
        #expect(Set(places.map(\.thread)).count == 1)
        #expect(places.allSatisfy { $0.isOwn })
    }

    @Test("the thread check refuses every other thread")
    func otherThreadsAreNotOwn() async throws {
        let handle = Handle()
        let own = await handle.whereAmI()
        #expect(own.isOwn)
        // Here: a thread of the cooperative pool, and a plain thread.
        #expect(!handle.executor.isCurrentThread)
        let fromThread = await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: handle.executor.isCurrentThread) }.start()
        }
        #expect(!fromThread)
    }
}
