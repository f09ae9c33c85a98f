import Foundation

/// A serial executor that runs every job on one dedicated thread.
///
/// libssh2 calls block (DNS, connect, waiting on the socket) and a libssh2 session
/// must never be used from two threads at once. Swift's cooperative pool has as
/// many threads as cores (2 here), so blocking it would stall every other task.
/// Each `SSHTransport` actor therefore runs on its own `ThreadExecutor`: its jobs
/// (and so all its libssh2 calls) happen one after another on its private thread.
final class ThreadExecutor: SerialExecutor, @unchecked Sendable {
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    /// Plain work for the thread (cleanup from a deinit, which is not a job).
    private var closures: [() -> Void] = []
    private var stopping = false

    init(name: String) {
        let thread = Thread { [self] in self.runLoop() }
        thread.name = name
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Lets the thread finish once the queued jobs have run; `last` runs on the
    /// thread before it ends (e.g. freeing a libssh2 session on its own thread).
    func shutdown(after last: (() -> Void)? = nil) {
        condition.lock()
        if let last { closures.append(last) }
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func runLoop() {
        while true {
            condition.lock()
            while jobs.isEmpty && closures.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty && closures.isEmpty {  // stopping, and nothing left to run
                condition.unlock()
                return
            }
            if !jobs.isEmpty {
                let job = jobs.removeFirst()
                condition.unlock()
                job.runSynchronously(on: asUnownedSerialExecutor())
            } else {
                let closure = closures.removeFirst()
                condition.unlock()
                closure()
            }
        }
    }
}
