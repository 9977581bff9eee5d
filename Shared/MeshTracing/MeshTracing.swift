import Synchronization
import Tracing

/// Which tracer the mesh's calls, HTTP requests and ledger batches use, and the trace id their logs carry.
public enum MeshTracing {
    /// The W3C header (and mesh metadata key) a call's trace travels in.
    public static let traceparent = "traceparent"
    /// The W3C header of vendors' trace data, carried on beside it unchanged.
    public static let tracestate = "tracestate"

    /// The tracer bootstrapped for the process (through `bootstrap`), or `MeshTracer` where none is: a
    /// library's calls (the tests, a county's Swift client) carry `traceparent` on without anyone bootstrapping.
    /// Kept here rather than asked of `InstrumentationSystem` on every call, which took its lock and a dynamic
    /// cast of an existential per span. So a tracer bootstrapped other than through `bootstrap`, or scoped to
    /// a task (`withTracer`), is not the one the mesh's calls use; nothing here does either.
    public static var tracer: any Tracer { Self.bootstrapped.withLock { $0 } ?? Self.fallback }

    private static let fallback = MeshTracer()
    private static let bootstrapped = Mutex<(any Tracer)?>(nil)

    /// The trace id (32 hex digits) of the span `context` is in, whichever tracer made it: `MeshTracer`'s own,
    /// or what the exporting tracer bootstrapped with it says (`bootstrap(_:traceID:)`).
    public static func traceID(of context: InstrumentationContext) -> String? {
        if let trace = context.meshTrace { return trace.traceID.description }
        return Self.exportedTraceID.withLock { $0 }?(context)
    }

    /// The trace id of the span the current task runs in, if any.
    public static var currentTraceID: String? { InstrumentationContext.current.flatMap(Self.traceID(of:)) }

    /// Bootstraps the process's tracer, once: `MeshTracer` where no exporter is built in, or an exporting one
    /// with how it tells a context's trace id.
    public static func bootstrap(
        _ tracer: any Tracer = MeshTracer(), traceID: (@Sendable (InstrumentationContext) -> String?)? = nil
    ) {
        Self.exportedTraceID.withLock { $0 = traceID }
        InstrumentationSystem.bootstrap(tracer)
        Self.bootstrapped.withLock { $0 = tracer }
    }

    private static let exportedTraceID = Mutex<(@Sendable (InstrumentationContext) -> String?)?>(nil)
}
