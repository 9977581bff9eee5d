import MeshTracing
import Testing
import Tracing

/// The tracer every mesh process has without an exporter: W3C `traceparent` in and out, a trace id per span.
@Suite("Mesh tracer")
struct MeshTracerTests {
    struct Headers: Injector, Extractor {
        func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
        func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
    }

    static let given = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    @Test("a server span continues the caller's trace; the client span it makes is written out as its child")
    func propagation() throws {
        let tracer = MeshTracer()
        var parent = InstrumentationContext.topLevel
        tracer.extract(["traceparent": Self.given], into: &parent, using: Headers())
        let server = tracer.startSpan("Gateway/Screen", context: parent, ofKind: .server)
        #expect(MeshTracing.traceID(of: server.context) == "4bf92f3577b34da6a3ce929d0e0e4736")
        let client = tracer.startSpan("Eligibility/Screen", context: server.context, ofKind: .client)
        var outgoing: [String: String] = [:]
        tracer.inject(client.context, into: &outgoing, using: Headers())
        let parts = try #require(outgoing["traceparent"]).split(separator: "-").map(String.init)
        #expect(parts.count == 4)
        #expect(parts[0] == "00")
        #expect(parts[1] == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(parts[2].count == 16 && parts[2] != "00f067aa0ba902b7")
        #expect(parts[3] == "01")
        // Two spans of one trace have two span ids.
        var again: [String: String] = [:]
        tracer.inject(server.context, into: &again, using: Headers())
        #expect(again["traceparent"] != outgoing["traceparent"])
        #expect(again["traceparent"]?.hasPrefix("00-4bf92f3577b34da6a3ce929d0e0e4736-") == true)
    }

    @Test("no traceparent, or a malformed one, starts a new sampled trace; nothing is written for no span")
    func newTraces() {
        let tracer = MeshTracer()
        var seen: Set<String> = []
        for headers in [
            [:], ["traceparent": "00-zz-not-a-trace"],
            ["traceparent": "00-" + String(repeating: "0", count: 32) + "-00f067aa0ba902b7-01"],
        ] {
            var parent = InstrumentationContext.topLevel
            tracer.extract(headers, into: &parent, using: Headers())
            let span = tracer.startSpan("Gateway/Screen", context: parent, ofKind: .server)
            let traceID = MeshTracing.traceID(of: span.context)
            #expect(traceID?.count == 32)
            #expect(traceID != String(repeating: "0", count: 32))
            if let traceID { seen.insert(traceID) }
            var outgoing: [String: String] = [:]
            tracer.inject(span.context, into: &outgoing, using: Headers())
            #expect(outgoing["traceparent"]?.hasSuffix("-01") == true, "sampled")
        }
        #expect(seen.count == 3)
        var nothing: [String: String] = [:]
        tracer.inject(.topLevel, into: &nothing, using: Headers())
        #expect(nothing.isEmpty)
        #expect(MeshTracing.traceID(of: .topLevel) == nil)
    }

    @Test("a tracestate goes on with the trace; a malformed one is dropped and the traceparent kept")
    func traceState() {
        let tracer = MeshTracer()
        for (state, expected) in [
            ("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7", "congo=t61rcWkgMzE, rojo=00f067aa0ba902b7"),
            ("Congo=t61rcWkgMzE", nil),
        ] {
            var parent = InstrumentationContext.topLevel
            tracer.extract(["traceparent": Self.given, "tracestate": state], into: &parent, using: Headers())
            let span = tracer.startSpan("Gateway/Screen", context: parent, ofKind: .server)
            var outgoing: [String: String] = [:]
            tracer.inject(span.context, into: &outgoing, using: Headers())
            #expect(outgoing["traceparent"]?.hasPrefix("00-4bf92f3577b34da6a3ce929d0e0e4736-") == true)
            #expect(outgoing["tracestate"] == expected)
        }
    }

    @Test("with no tracer bootstrapped, the mesh's calls use this one, and the current span's trace id is at hand")
    func fallback() {
        #expect(MeshTracing.tracer is MeshTracer)
        let span = MeshTracing.tracer.startSpan("x", context: .topLevel, ofKind: .internal)
        let inside = InstrumentationContext.$current.withValue(span.context) { MeshTracing.currentTraceID }
        #expect(inside != nil && inside == MeshTracing.traceID(of: span.context))
        #expect(MeshTracing.currentTraceID == nil)
    }

    @Test("trace and span ids drawn without a system call are distinct across spans and threads")
    func distinctIDs() async {
        let tracer = MeshTracer()
        let headers = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    (0..<5_000).map { _ in
                        let span = tracer.startSpan("Gateway/Screen", context: .topLevel, ofKind: .server)
                        var outgoing: [String: String] = [:]
                        tracer.inject(span.context, into: &outgoing, using: Headers())
                        return outgoing["traceparent"] ?? ""
                    }
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        let traces = Set(headers.map { $0.split(separator: "-")[1] })
        let spans = Set(headers.map { $0.split(separator: "-")[2] })
        #expect(traces.count == 20_000)
        #expect(spans.count == 20_000)
        #expect(!traces.contains("00000000000000000000000000000000"))
    }
}
