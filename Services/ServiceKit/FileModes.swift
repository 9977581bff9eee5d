#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The files a mesh process makes hold what others must not read: the ledger, notices and webhook secrets,
/// the register and the console's accounts, the audit log, keys. Every process clears the group and other
/// permission bits from what it creates (umask 077), so they are made 0600 and folders 0700.
public enum FileModes {
    /// Call first thing in a process, before any file is opened.
    public static func restrictToOwner() {
        umask(0o077)
    }
}
