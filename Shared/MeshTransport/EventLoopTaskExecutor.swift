import NIOCore

/// Runs the jobs of the tasks that prefer it on one event loop.
///
/// A server's calls run where their connection reads and writes: a call that arrives, is handled, and
/// answers without leaving its connection's event loop costs no wake-up of another thread. On the cooperative
/// pool the same call hopped event loop → pool → event loop at least twice (once for its request, once for
/// each answer it waited on), and at low load each hop woke a sleeping thread.
///
/// The invariant for a handler run here is the event loop's own: it does not block. Waiting (`await`) is
/// fine, and so is a short computation; a blocking system call holds up every connection on the loop.
public final class EventLoopTaskExecutor: TaskExecutor, Sendable {
    public let eventLoop: any EventLoop

    public init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        self.eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
