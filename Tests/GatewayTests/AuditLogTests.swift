import Foundation
import GatewayService
import Testing

/// The audit log on a disk that refuses writes.
@Suite("Audit log")
struct AuditLogTests {
    @Test("a full disk (/dev/full): the line is counted as not written, the gateway goes on")
    func fullDisk() throws {
        guard FileManager.default.isWritableFile(atPath: "/dev/full") else {
            Issue.record("/dev/full is not writable here; the test needs Linux's full device")
            return
        }
        let audit = try AuditLog(path: "/dev/full")
        audit.record(caller: "county/nanhu", method: "ProposePayout", outcome: "proposed", detail: ["order": "o-1"])
        audit.record(caller: "county/nanhu", method: "ProposePayout", outcome: "refused")
        #expect(audit.failedWrites == 2)
    }

    @Test("a writable file: every line written, none counted as failed")
    func writable() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let audit = try AuditLog(path: path)
        audit.record(caller: "operator/operator", method: "OpenFund", outcome: "done")
        #expect(audit.failedWrites == 0)
        #expect(audit.entries().map { $0["method"] } == ["OpenFund"])
    }

    @Test("a line is one JSON object, keys sorted, whatever a reason holds: quotes, backslashes, newlines, controls")
    func escaping() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("audit-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let audit = try AuditLog(path: path)
        let reason = "名单\"复核\"中\\ 第二行\n\r\t\u{0}\u{1F}\u{7F} 𠀀 </script>"
        audit.record(
            caller: "department/jingxin", method: "DecideOrders", outcome: "rejected", detail: ["reason": reason])
        audit.record(caller: "operator/operator", method: "OpenFund", outcome: "done")
        let entries = audit.entries()
        #expect(entries.count == 2)
        #expect(entries.first?["reason"] == reason)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.split(separator: "\n").count == 2)
        let first = try #require(text.split(separator: "\n").first)
        #expect(
            first.hasPrefix(#"{"at":"#) && first.contains(#""caller":"department/jingxin","method":"DecideOrders""#))
    }
}
