/// The console's named limits on passwords, sign-in attempts and sessions.
public struct ConsolePolicy: Sendable, Hashable {
    /// bcrypt's cost: 2^cost rounds. 11 takes about 0.1–0.2 s here, slow enough to make guessing costly.
    public var bcryptCost: UInt8 = 11
    public var minimumPasswordLength = 10
    public var maximumPasswordLength = 72  // bcrypt reads no further
    /// Failed sign-ins in a row after which the account is locked.
    public var maximumFailedAttempts = 5
    public var lockoutMillis: Int64 = 15 * 60 * 1000
    /// A session ends after this long without a request…
    public var idleTimeoutMillis: Int64 = 30 * 60 * 1000
    /// …and after this long in any case.
    public var absoluteTimeoutMillis: Int64 = 12 * 60 * 60 * 1000

    public init() {}
}
