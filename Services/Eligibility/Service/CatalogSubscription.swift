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
    let holder: EngineHolder
    let logger: Logger
    let onLoad: @Sendable (Catalog) -> Void

    public init(client: MeshClient, holder: EngineHolder, logger: Logger, onLoad: @escaping @Sendable (Catalog) -> Void = { _ in }) {
        self.client = client
        self.holder = holder
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
                self.logger.warning("catalog unavailable; retrying", metadata: ["error": "\(error)", "in": "\(backoff)"])
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(5))
        }
    }

    /// One watch: load what is announced, until the stream ends.
    private func follow() async throws {
        var watch = Jiaxing_Benefits_V1_WatchCatalogRequest()
        watch.knownRevision = self.holder.engine?.catalog.revision ?? ""
        let request = watch
        try await cancelWhenGracefulShutdown {
            try await self.client.serverStreaming(CatalogMethods.watch, request) { (revisions: ResponseStream<Jiaxing_Benefits_V1_CatalogRevision>) in
                for try await revision in revisions where revision.revision != self.holder.engine?.catalog.revision {
                    let snapshot: Jiaxing_Benefits_V1_CatalogSnapshot = try await self.client.unary(
                        CatalogMethods.getCatalog, Jiaxing_Benefits_V1_GetCatalogRequest(), options: CallOptions(timeout: .seconds(10))
                    )
                    let catalog = try Catalog(snapshot: snapshot)
                    self.holder.replace(with: catalog)
                    self.logger.info("catalog loaded", metadata: ["revision": "\(catalog.revision)", "clauses": "\(catalog.clauseCount)"])
                    self.onLoad(catalog)
                }
            }
        }
    }
}
