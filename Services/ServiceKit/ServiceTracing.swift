import MeshTracing
import ServiceLifecycle

#if OTel
    import OTel
#endif

/// A service's tracer. Built with the `OTel` trait (`swift build --traits OTel`), swift-otel's: spans exported
/// over OTLP/HTTP, set by the standard `OTEL_*` variables (`OTEL_EXPORTER_OTLP_ENDPOINT`,
/// `OTEL_EXPORTER_OTLP_PROTOCOL`, `OTEL_TRACES_SAMPLER`, …), named after the service. Without it (the default
/// build stays lean), `MeshTracer`: nothing exported, `traceparent` carried on and the trace id in the logs.
public enum ServiceTracing {
    /// Bootstraps the process's tracer; returns the service that exports spans (to run first in the service
    /// group, so it stops last, once the server drained, and flushes what the last calls made), if any.
    public static func bootstrap(serviceName: String) throws -> (any Service)? {
        #if OTel
            var configuration = OTel.Configuration.default
            configuration.serviceName = serviceName
            // Logs are swift-log's own handlers (JSON lines with trace_id); metrics are Prometheus's.
            configuration.logs.enabled = false
            configuration.metrics.enabled = false
            let backend = try OTel.makeTracingBackend(configuration: configuration)
            MeshTracing.bootstrap(backend.factory, traceID: { $0.otelTraceID })
            return backend.service
        #else
            MeshTracing.bootstrap()
            return nil
        #endif
    }

    /// Whether this build exports spans (the `OTel` trait).
    public static var exports: Bool {
        #if OTel
            true
        #else
            false
        #endif
    }
}
