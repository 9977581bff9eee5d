import Foundation
import Logging
import MeshRPC
import MeshTracing
import NIOConcurrencyHelpers
import ServiceKit
import Testing
import Tracing

@Suite("JSON log lines")
struct JSONLogHandlerTests {
    @Test("a record is one line of JSON with its level, logger, message and metadata, and the call's trace id")
    func lines() throws {
        let written = NIOLockedValueBox<[String]>([])
        var logger = Logger(label: "jiaxing.test") { label, _ in
            JSONLogHandler(label: label, metadataProvider: .meshTrace) { line in
                written.withLockedValue { $0.append(line) }
            }
        }
        logger[metadataKey: "replica"] = "a"
        // The server span of a call whose caller sent this traceparent, as the mesh server makes it.
        struct Header: Extractor {
            func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
        }
        var parent = InstrumentationContext.topLevel
        MeshTracer().extract(
            ["traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"], into: &parent,
            using: Header())
        let span = MeshTracer().startSpan("jiaxing.benefits.v1.Gateway/Screen", context: parent, ofKind: .server)
        InstrumentationContext.$current.withValue(span.context) {
            logger.warning("a \"quoted\"\nsecond line", metadata: ["order": "o-1", "replica": "b"])
        }
        logger.info("outside a call")
        let lines = written.withLockedValue { $0 }
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { $0.hasSuffix("\n") && $0.dropLast().firstIndex(of: "\n") == nil })
        let first = try #require(
            try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(first["level"] as? String == "warning")
        #expect(first["logger"] as? String == "jiaxing.test")
        #expect(first["message"] as? String == "a \"quoted\"\nsecond line")
        #expect(first["order"] as? String == "o-1")
        #expect(first["replica"] as? String == "b", "the call's metadata wins over the logger's")
        #expect(first["trace_id"] as? String == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect((first["time"] as? String)?.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/) != nil)
        let second = try #require(
            try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        #expect(second["trace_id"] == nil, "no call, no trace")
        #expect(second["replica"] as? String == "a")
    }
}
