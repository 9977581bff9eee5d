import CatalogModel
import EligibilityEngine
import NIOConcurrencyHelpers

/// The engine for the catalog revision currently loaded; replaced whole when a new revision arrives, so a
/// screening in progress finishes on the revision it started with.
public final class EngineHolder: Sendable {
    private let state: NIOLockedValueBox<EligibilityEngine?>

    public init(engine: EligibilityEngine? = nil) {
        self.state = NIOLockedValueBox(engine)
    }

    public var engine: EligibilityEngine? { self.state.withLockedValue { $0 } }

    public func replace(with catalog: Catalog) {
        self.state.withLockedValue { $0 = EligibilityEngine(catalog: catalog) }
    }
}
