import MeshTracing
import Tracing

extension Metadata {
    /// The span `context` is in, written as its `traceparent` (and `tracestate`): for a call made later, out
    /// of that span's scope (a streamed HTTP response's body), whose client span is then its child.
    public mutating func addTrace(of context: InstrumentationContext) {
        MeshTracing.tracer.inject(context, into: &self, using: Injector())
    }

    /// Writes a span's context into a call's metadata (`traceparent`) for the tracer.
    struct Injector: Tracing.Injector {
        func inject(_ value: String, forKey key: String, into carrier: inout Metadata) {
            carrier.add(key, value)
        }
    }

    /// Reads the caller's span context from a call's metadata for the tracer.
    struct Extractor: Tracing.Extractor {
        func extract(key: String, from carrier: Metadata) -> String? {
            carrier[key]
        }
    }
}
