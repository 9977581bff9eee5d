import BenefitsAPI
import CatalogModel
import MeshMessages
import MeshRPC
import NIOConcurrencyHelpers

/// The catalog's vocabulary as the gateway last read it: which department attests which kind of record. Read
/// again from a catalog replica once `maximumAge` has passed, so a catalog revision reaches the gateway within
/// that time without a catalog call on every proposal.
public final class VocabularyCache: Sendable {
    /// How long a read vocabulary is used before it is read again.
    public static let maximumAge: Duration = .seconds(10)

    private let state = NIOLockedValueBox<(vocabulary: Vocabulary, readAt: ContinuousClock.Instant)?>(nil)

    public init() {}

    public func vocabulary(from catalog: ReplicaPool, options: CallOptions) async throws -> Vocabulary {
        let now = ContinuousClock.now
        if let cached = self.state.withLockedValue({ $0 }), now - cached.readAt < Self.maximumAge {
            return cached.vocabulary
        }
        let snapshot: Jiaxing_Benefits_V1_CatalogSnapshot = try await catalog.call(idempotent: true) { client in
            try await client.unary(CatalogMethods.getCatalog, Jiaxing_Benefits_V1_GetCatalogRequest(), options: options)
        }
        let vocabulary = Vocabulary(message: snapshot.vocabulary)
        self.state.withLockedValue { $0 = (vocabulary, now) }
        return vocabulary
    }
}
