import BenefitsAPI
import CatalogModel
import Logging
import MeshMessages
import MeshRPC
import ServiceLifecycle

/// Loads the catalog from the catalog service and reloads it whenever `Watch` announces a new revision.
/// Reconnects with backoff while the catalog service is away; until the first load the eligibility service
/// answers `unavailable`.
public struct CatalogSubscription: Service {
    let client: MeshClient
    let current: @Sendable () -> String?
    let logger: Logger
    let onLoad: @Sendable (Catalog) -> Void

    /// - Parameters:
    ///   - current: the revision the caller holds, if any.
    ///   - onLoad: called with each new revision, in order.
    public init(
        client: MeshClient, current: @escaping @Sendable () -> String?, logger: Logger,
        onLoad: @escaping @Sendable (Catalog) -> Void
    ) {
        self.client = client
        self.current = current
        self.logger = logger
        self.onLoad = onLoad
    }

    public func run() async throws {
        var backoff = Duration.milliseconds(100)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await self.follow()
                backoff = .milliseconds(100)
            } catch {
                if Task.isCancelled || Task.isShuttingDownGracefully { return }
                self.logger.warning(
                    "catalog unavailable; retrying", metadata: ["error": "\(error)", "in": "\(backoff)"])
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(5))
        }
    }

    /// One watch: load what is announced, until the stream ends.
    private func follow() async throws {
        var watch = Jiaxing_Benefits_V1_WatchCatalogRequest()
        watch.knownRevision = self.current() ?? ""
        let request = watch
        try await cancelWhenGracefulShutdown {
            try await self.client.serverStreaming(CatalogMethods.watch, request) {
                (revisions: ResponseStream<Jiaxing_Benefits_V1_CatalogRevision>) in
                for try await revision in revisions where revision.revision != self.current() {
                    let snapshot: Jiaxing_Benefits_V1_CatalogSnapshot = try await self.client.unary(
                        CatalogMethods.getCatalog, Jiaxing_Benefits_V1_GetCatalogRequest(),
                        options: CallOptions(timeout: .seconds(10))
                    )
                    let catalog = try Catalog(snapshot: snapshot)
                    self.logger.info(
                        "catalog loaded",
                        metadata: ["revision": "\(catalog.revision)", "clauses": "\(catalog.clauseCount)"])
                    self.onLoad(catalog)
                }
            }
        }
    }
}
