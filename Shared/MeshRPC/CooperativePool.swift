/// Runs `body` on Swift's cooperative pool, whatever executor the calling task prefers.
///
/// A handler on a server that runs its calls on their connections' event loops (`CallExecution`) hands work
/// that blocks or computes for long (a campaign's pages, a register's thousand profiles, a forecast) to the
/// pool this way: on the loop it would hold up every other connection the loop serves, their reads too.
/// Where the caller already runs on the pool this changes nothing.
public func onCooperativePool<Result, Failure: Error>(_ body: () async throws(Failure) -> Result)
    async throws(Failure) -> Result
{
    try await withTaskExecutorPreference(globalConcurrentExecutor, operation: body)
}
