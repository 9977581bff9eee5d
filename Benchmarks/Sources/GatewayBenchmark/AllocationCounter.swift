#if canImport(Glibc)
    import Glibc
#endif

/// The process's heap allocations so far, when `Benchmarks/malloc-counter` is preloaded (scripts/benchmarks.sh
/// does); nil otherwise. Allocations per call show a regression even when time is noisy.
enum AllocationCounter {
    typealias Count = @convention(c) () -> UInt

    static let function: Count? = {
        // A null handle is RTLD_DEFAULT on glibc: every object loaded, the preloaded counter among them.
        guard let symbol = dlsym(nil, "mesh_malloc_count") else { return nil }
        return unsafeBitCast(symbol, to: Count.self)
    }()

    static func count() -> UInt? { self.function?() }
}
