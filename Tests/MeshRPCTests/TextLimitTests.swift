import MeshMessages
import MeshRPC
import Testing

/// One limit for every string field of a request, the refusal naming the field by its path.
@Suite("Text limit")
struct TextLimitTests {
    let limit = TextLimit(maximumCharacters: 10)

    @Test("a string at the limit passes; one over it is refused naming its path, however deep")
    func paths() throws {
        var request = Jiaxing_Benefits_V1_RegisterEnterprisesRequest()
        var profile = Jiaxing_Benefits_V1_EnterpriseProfile()
        profile.creditCode = "91330402MA"
        profile.name = String(repeating: "名", count: 10)
        var project = Jiaxing_Benefits_V1_ProjectRecord()
        project.name = "短"
        profile.projects = [project, project]
        request.profiles = [profile, profile]
        try self.limit.check(request)  // ten characters, thirty bytes: characters are what count

        request.profiles[1].projects[1].name = String(repeating: "长", count: 11)
        let deep = #expect(throws: RPCError.self) { try self.limit.check(request) }
        #expect(deep?.code == .invalidArgument)
        #expect(deep?.message == "profiles[1].projects[1].name: at most 10 characters, got 11")

        var reject = Jiaxing_Benefits_V1_DecideRequest()
        reject.orderID = "o-1"
        reject.reason = String(repeating: "x", count: 3 << 20)
        let flat = #expect(throws: RPCError.self) { try self.limit.check(reject) }
        #expect(flat?.message == "reason: at most 10 characters, got 3145728")
    }

    @Test("repeated strings are each measured")
    func repeated() {
        var request = Jiaxing_Benefits_V1_PublishRecordsRequest()
        var record = Jiaxing_Benefits_V1_PublishedRecord()
        record.reference = "ok"
        record.recognition.recognition = String(repeating: "r", count: 12)
        request.records = [record]
        let refused = #expect(throws: RPCError.self) { try self.limit.check(request) }
        #expect(refused?.message == "records[0].recognition.recognition: at most 10 characters, got 12")
    }
}
