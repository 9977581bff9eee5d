import Foundation
import Logging
import ServiceKit
import ServiceLifecycle

/// Reloads the catalog when its files change (checked every `interval`): the documents, the vocabulary, the
/// calendar's years and the source texts, so a reviewed change to the data, or a newly published calendar
/// year, reaches every service without a restart. Ends when the service group shuts down or is cancelled.
public struct CatalogFileWatcher: Service {
    let store: CatalogStore
    let interval: Duration
    /// The files as they were when the watcher was made (right after the store loaded them): a change made
    /// before `run` begins is still a change.
    public let initial: [String]

    public init(store: CatalogStore, interval: Duration = .seconds(2)) {
        self.store = store
        self.interval = interval
        self.initial = Self.fingerprint(store.directory)
    }

    public func run() async throws {
        var fingerprint = self.initial
        await PeriodicJob.run(
            every: self.interval, "catalog file check", logger: Logger(label: "catalog"), first: .afterInterval
        ) {
            fingerprint = self.reloadIfChanged(since: fingerprint)
        }
    }

    /// One look at the files: reloads the store if they differ from `fingerprint`; returns what they are now.
    @discardableResult
    public func reloadIfChanged(since fingerprint: [String]) -> [String] {
        let current = Self.fingerprint(self.store.directory)
        if current != fingerprint { self.store.reload() }
        return current
    }

    /// Names, sizes and modification times of the files, and of those in the `calendar` and `sources`
    /// folders: cheap to compute, changes when any file does.
    static func fingerprint(_ directory: String) -> [String] {
        let files = FileManager.default
        return ["", "calendar/", "sources/"].flatMap { folder in
            ((try? files.contentsOfDirectory(atPath: "\(directory)/\(folder)")) ?? []).sorted().map { name in
                let attributes = try? files.attributesOfItem(atPath: "\(directory)/\(folder)\(name)")
                let size = (attributes?[.size] as? NSNumber)?.intValue ?? -1
                let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
                return "\(folder)\(name):\(size):\(modified)"
            }
        }
    }
}
