import CatalogModel
import Foundation
import Logging
import NIOConcurrencyHelpers

/// Holds the catalog being served and tells watchers when a new revision loads. A reload that fails
/// validation keeps the last good revision.
public final class CatalogStore: Sendable {
    public let directory: String
    /// The source documents every quoted text is checked against, on every load.
    public let sourcesDirectory: String
    private let logger: Logger
    private let state: NIOLockedValueBox<(catalog: Catalog, watchers: [UUID: AsyncStream<Catalog>.Continuation])>

    /// Loads and validates the catalog; throws if it is not valid, so the service refuses to start with it.
    public init(directory: String, sourcesDirectory: String? = nil, logger: Logger) throws {
        self.directory = directory
        self.sourcesDirectory = sourcesDirectory ?? CatalogLoader.sourcesDirectory(of: directory)
        self.logger = logger
        let catalog = try CatalogLoader.load(directory: directory, sourcesDirectory: self.sourcesDirectory)
        self.state = NIOLockedValueBox((catalog, [:]))
        logger.info(
            "catalog loaded",
            metadata: [
                "revision": "\(catalog.revision)", "documents": "\(catalog.documents.count)",
                "clauses": "\(catalog.clauseCount)",
            ])
    }

    public var catalog: Catalog { self.state.withLockedValue { $0.catalog } }

    public enum ReloadResult: Sendable {
        case unchanged
        case loaded(revision: String)
        case rejected(CatalogValidationError)
    }

    /// Reads the files again. A new valid revision replaces the current one and reaches every watcher.
    @discardableResult
    public func reload() -> ReloadResult {
        let catalog: Catalog
        do {
            catalog = try CatalogLoader.load(directory: self.directory, sourcesDirectory: self.sourcesDirectory)
        } catch let error as CatalogValidationError {
            self.logger.error(
                "catalog reload rejected; serving the last good revision",
                metadata: ["revision": "\(self.catalog.revision)", "problems": "\(error)"])
            return .rejected(error)
        } catch {
            let wrapped = CatalogValidationError(issues: [
                CatalogIssue(file: self.directory, field: "directory", message: "\(error)")
            ])
            return .rejected(wrapped)
        }
        let watchers: [AsyncStream<Catalog>.Continuation]? = self.state.withLockedValue { state in
            guard state.catalog.revision != catalog.revision else { return nil }
            state.catalog = catalog
            return Array(state.watchers.values)
        }
        guard let watchers else { return .unchanged }
        self.logger.info(
            "catalog reloaded", metadata: ["revision": "\(catalog.revision)", "clauses": "\(catalog.clauseCount)"])
        for watcher in watchers { watcher.yield(catalog) }
        return .loaded(revision: catalog.revision)
    }

    /// New revisions from now on, until the returned stream is dropped.
    public func revisions() -> AsyncStream<Catalog> {
        let (stream, continuation) = AsyncStream<Catalog>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = UUID()
        self.state.withLockedValue { $0.watchers[id] = continuation }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLockedValue { $0.watchers.removeValue(forKey: id) }
        }
        return stream
    }
}
