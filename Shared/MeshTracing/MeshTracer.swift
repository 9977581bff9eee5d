import Tracing
import W3CTraceContext

/// The tracer a mesh process runs without an exporter (the default build, the tests, a county's Swift client):
/// its spans record nothing, but each has a trace id and a span id of its own, a call's `traceparent` is read
/// into the server's span and written from the client's, so one county request is followed through every
/// service's logs whether or not spans are exported (an exporting tracer, swift-otel's, takes its place where
/// one is bootstrapped: `MeshTracing.tracer`).
///
/// Invariant: a span started in the context of another carries that span's trace id and the same flags; a
/// span with no parent starts a new trace, sampled.
public struct MeshTracer: Tracer {
    public init() {}

    public func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> InstrumentationContext, ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant, function: String, file fileID: String, line: UInt
    ) -> MeshSpan {
        var context = context()
        let parent = context.meshTrace
        var generator = TraceIDGenerator()
        context.meshTrace = TraceContext(
            traceID: parent?.traceID ?? .random(using: &generator), spanID: .random(using: &generator),
            flags: parent?.flags ?? .sampled, state: parent?.state ?? TraceState())
        return MeshSpan(context: context, operationName: operationName)
    }

    public func forceFlush() {}

    public func inject<Carrier, Inject: Injector>(
        _ context: InstrumentationContext, into carrier: inout Carrier, using injector: Inject
    ) where Inject.Carrier == Carrier {
        guard let trace = context.meshTrace else { return }
        injector.inject(trace.traceParentHeaderValue, forKey: MeshTracing.traceparent, into: &carrier)
        if let state = trace.traceStateHeaderValue, !state.isEmpty {
            injector.inject(state, forKey: MeshTracing.tracestate, into: &carrier)
        }
    }

    /// A malformed `traceparent` is ignored: the call starts a trace of its own (W3C Trace Context, 4.3); a
    /// `tracestate` is carried on with it.
    public func extract<Carrier, Extract: Extractor>(
        _ carrier: Carrier, into context: inout InstrumentationContext, using extractor: Extract
    ) where Extract.Carrier == Carrier {
        guard let value = extractor.extract(key: MeshTracing.traceparent, from: carrier) else { return }
        let state = extractor.extract(key: MeshTracing.tracestate, from: carrier)
        // A malformed `tracestate` is dropped and the `traceparent` kept (W3C Trace Context, 3.3.1.1).
        guard
            let trace = (try? TraceContext(traceParentHeaderValue: value, traceStateHeaderValue: state))
                ?? (try? TraceContext(traceParentHeaderValue: value))
        else { return }
        context.meshTrace = trace
    }
}

/// A span of `MeshTracer`: its context only; nothing it is told is kept.
public struct MeshSpan: Span {
    public let context: InstrumentationContext
    public var operationName: String {
        get { self.name }
        nonmutating set {}
    }
    let name: String

    init(context: InstrumentationContext, operationName: String) {
        self.context = context
        self.name = operationName
    }

    public var isRecording: Bool { false }
    public var attributes: SpanAttributes {
        get { [:] }
        nonmutating set {}
    }
    public func setStatus(_ status: SpanStatus) {}
    public func addEvent(_ event: SpanEvent) {}
    public func addLink(_ link: SpanLink) {}
    public func recordError<Instant: TracerInstant>(
        _ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant
    ) {}
    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {}
}

/// Where `MeshTracer` keeps a span's W3C trace context.
enum MeshTraceKey: InstrumentationContextKey {
    typealias Value = TraceContext
    static var nameOverride: String? { "mesh-trace" }
}

extension InstrumentationContext {
    /// The W3C trace context of `MeshTracer`'s span in this context.
    var meshTrace: TraceContext? {
        get { self[MeshTraceKey.self] }
        set { self[MeshTraceKey.self] = newValue }
    }
}
