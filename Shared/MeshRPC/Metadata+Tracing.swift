import Tracing

extension Metadata {
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
