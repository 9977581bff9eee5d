import MeshRPC
import NIOConcurrencyHelpers

/// Hands the server to background services that start before it exists (for example to mark it serving once
/// the catalog has loaded).
public final class ServerHolder: Sendable {
    private let stored = NIOLockedValueBox<MeshServer?>(nil)

    public init() {}

    public var server: MeshServer? {
        get { self.stored.withLockedValue { $0 } }
        set { self.stored.withLockedValue { $0 = newValue } }
    }
}
