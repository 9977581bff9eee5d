import Synchronization

/// Trace and span ids without a system call each: splitmix64 over a counter that every thread advances
/// atomically, seeded once from the system's generator. Ids need to be unique and unpredictable enough not to
/// collide across processes (W3C Trace Context, 3.2.2.3), not to be secret; `SystemRandomNumberGenerator`
/// made two `getrandom` calls per span, four spans per screening through the gateway.
struct TraceIDGenerator: RandomNumberGenerator {
    private static let counter = Atomic<UInt64>(Self.seed())

    private static func seed() -> UInt64 {
        var system = SystemRandomNumberGenerator()
        return system.next()
    }

    mutating func next() -> UInt64 {
        var z = Self.counter.wrappingAdd(0x9E37_79B9_7F4A_7C15, ordering: .relaxed).newValue
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
