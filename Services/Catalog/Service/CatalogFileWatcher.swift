import Foundation
import ServiceLifecycle

/// Reloads the catalog when its files change (checked every `interval`), so a reviewed change to the data
/// reaches every eligibility replica without a restart.
public struct CatalogFileWatcher: Service {
    let store: CatalogStore
    let interval: Duration

    public init(store: CatalogStore, interval: Duration = .seconds(2)) {
        self.store = store
        self.interval = interval
    }

    public func run() async throws {
        var fingerprint = Self.fingerprint(self.store.directory)
        while !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: self.interval)
            let current = Self.fingerprint(self.store.directory)
            if current != fingerprint {
                fingerprint = current
                self.store.reload()
            }
        }
    }

    /// Names, sizes and modification times of the files: cheap to compute, changes when any file does.
    static func fingerprint(_ directory: String) -> [String] {
        let files = FileManager.default
        return ((try? files.contentsOfDirectory(atPath: directory)) ?? []).sorted().map { name in
            let attributes = try? files.attributesOfItem(atPath: "\(directory)/\(name)")
            let size = (attributes?[.size] as? NSNumber)?.intValue ?? -1
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            return "\(name):\(size):\(modified)"
        }
    }
}
