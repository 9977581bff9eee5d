import BenefitsAPI
import BenefitsDomain
import Foundation
import GatewayHTTP
import GatewayStore
import MeshMessages
import MeshTestSupport
import Testing

/// A department's whole list in one upload over the HTTP face, NDJSON or CSV: refusals by line, progress per
/// slice, totals; idempotent by reference.
@Suite("Publish uploads")
struct PublishUploadTests {
    /// The NDJSON answer's lines, parsed.
    static func answer(_ body: String) throws -> [[String: Any]] {
        try body.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any], "\($0)")
        }
    }

    static func code(_ index: Int) -> String {
        CreditCode.completing("91330402MA2C" + String(format: "%05d", index))!.value
    }

    static func upload(_ face: GatewayHTTPTests.Face, _ party: String, _ text: String, type: String) async throws
        -> (status: Int, lines: [[String: Any]])
    {
        let file = "\(face.folder)/upload-\(UUID().uuidString)"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let (status, body) = try await face.curl(
            party,
            [
                "-X", "POST", "https://localhost:\(face.port)/v1/PublishRecords", "-H", "content-type: \(type)",
                "--data-binary", "@\(file)",
            ])
        return (status, try Self.answer(body))
    }

    @Test("NDJSON: 2,500 lines in slices of a thousand, each refused line named, totals; sent again, unchanged")
    func ndjson() async throws {
        #expect(GatewayHTTP.recordsPerPublish == GatewayStore.maximumRecordsPerCall)
        try await GatewayHTTPTests.withFace { face in
            var lines: [String] = []
            for index in 0..<2_497 {
                lines.append(
                    #"{"creditCode":"\#(Self.code(index))","reference":"浙经信〔2023〕45号#\#(index)","recognition":{"recognition":"greenFactory","level":"municipal","recognizedOn":{"year":2023,"month":7,"day":1}}}"#
                )
            }
            lines.insert("not json", at: 10)  // line 11
            lines.insert(  // line 1502: a kind 市经信局 does not attest
                #"{"creditCode":"\#(Self.code(9_000))","reference":"科技#1","recognition":{"recognition":"highTechEnterprise","level":"national","recognizedOn":{"year":2023,"month":7,"day":1}}}"#,
                at: 1_501)
            lines.insert("", at: 2_000)  // a blank line is counted, not answered
            let text = lines.joined(separator: "\n") + "\n"
            let (status, answer) = try await Self.upload(face, "jingxin", text, type: "application/x-ndjson")
            #expect(status == 200)
            let refused = answer.compactMap { $0["line"] as? Int }
            #expect(refused == [11, 1_502], "\(answer.filter { $0["line"] != nil })")
            let notJSON = answer.first { $0["line"] as? Int == 11 }?["error"] as? [String: Any]
            #expect((notJSON?["message"] as? String)?.hasPrefix("line 11: not a PublishedRecord") == true)
            let notTheirs = answer.first { $0["line"] as? Int == 1_502 }?["error"] as? [String: Any]
            #expect(
                (notTheirs?["message"] as? String)?.hasPrefix("line 1502.recognition: 市经信局 does not attest") == true,
                "\(notTheirs ?? [:])")
            let progress = answer.compactMap { $0["progress"] as? [String: Any] }
            #expect(progress.count == 3)
            #expect(progress.map { $0["published"] as? Int } == [1_000, 1_999, 2_497])
            let done = try #require(answer.last?["done"] as? [String: Any])
            #expect(done["lines"] as? Int == 2_500)
            #expect(done["published"] as? Int == 2_497)
            #expect(done["refused"] as? Int == 2)

            let (_, again) = try await Self.upload(face, "jingxin", text, type: "application/x-ndjson")
            let second = try #require(again.last?["done"] as? [String: Any])
            #expect(second["unchanged"] as? Int == 2_497)
            #expect(second["published"] as? Int == 0)
        }
    }

    @Test("CSV: a header naming the columns, quoted fields, each bad row named; a county may not publish")
    func csv() async throws {
        try await GatewayHTTPTests.withFace { face in
            let text = [
                "credit_code,reference,type,id,level,date,year,amount,name,withdrawn",
                "\(Self.code(1)),\"浙经信〔2023〕45号#1\",recognition,greenFactory,provincial,2023-07-01,,,,",
                "\(Self.code(2)),\"名单,第2行\",recognition,singleChampion,national,2023-05-01,,,,false",
                "\(Self.code(3)),数字化#3,fact,digitalInvestment,,,,4000000000,,",
                "\(Self.code(4)),改造#4,project,greenRenovation,,2023-10-01,,80000000,\"厂房\"\"节能\"\"改造\",",
                "\(Self.code(5)),坏日期#5,recognition,greenFactory,municipal,2023-13-01,,,,",
                "\(Self.code(6)),未知#6,award,greenFactory,,,,,,",
                "\(Self.code(7)),少一列#7,recognition,greenFactory,municipal",
            ].joined(separator: "\r\n")
            let (status, answer) = try await Self.upload(face, "jingxin", text, type: "text/csv; charset=utf-8")
            #expect(status == 200)
            let refusals = Dictionary(
                uniqueKeysWithValues: answer.compactMap { line -> (Int, String)? in
                    guard let number = line["line"] as? Int, let error = line["error"] as? [String: Any] else {
                        return nil
                    }
                    return (number, error["message"] as? String ?? "")
                })
            #expect(refusals.keys.sorted() == [6, 7, 8], "\(refusals)")
            #expect(refusals[6]?.hasPrefix("line 6: date: a date as YYYY-MM-DD") == true)
            #expect(refusals[7]?.hasPrefix("line 7: type: recognition, project or fact") == true)
            #expect(refusals[8] == "line 8: 5 fields, but the header names 10")
            let done = try #require(answer.last?["done"] as? [String: Any])
            #expect(done["published"] as? Int == 4)

            var list = Jiaxing_Benefits_V1_ListPublishedRecordsRequest()
            list.creditCode = Self.code(4)
            let listed = try await face.curl(
                "jingxin",
                [
                    "-X", "POST", "https://localhost:\(face.port)/v1/ListPublishedRecords", "-d",
                    try list.jsonString(),
                ])
            #expect(listed.body.contains("厂房\\\"节能\\\"改造"), "\(listed.body.prefix(400))")

            // A contract's own figure: a `figure:<fact>` column, the fact's id in its own case.
            let contracts = [
                "credit_code,reference,type,id,date,amount,figure:techContractAmountPaid,figure:unicornValuation",
                "\(Self.code(8)),合同#8,project,brokeredTechContract,2024-07-01,200000000,180000000,",
                "\(Self.code(9)),合同#9,project,brokeredTechContract,2024-07-01,200000000,,5",
            ].joined(separator: "\n")
            let figures = try await Self.upload(face, "keji", contracts, type: "text/csv")
            #expect(figures.status == 200)
            let figureErrors = figures.lines.compactMap { ($0["error"] as? [String: Any])?["message"] as? String }
            #expect(figureErrors.count == 1, "\(figureErrors)")
            #expect(figureErrors.first?.contains("figures[unicornValuation]") == true, "\(figureErrors)")
            list.creditCode = Self.code(8)
            let contract = try await face.curl(
                "keji",
                [
                    "-X", "POST", "https://localhost:\(face.port)/v1/ListPublishedRecords", "-d",
                    try list.jsonString(),
                ])
            #expect(
                contract.body.contains("\"figures\":{\"techContractAmountPaid\":\"180000000\"}"),
                "\(contract.body.prefix(600))")

            let badHeader = try await Self.upload(face, "jingxin", "credit_code,reference,kind\n", type: "text/csv")
            let headerError = badHeader.lines.first?["error"] as? [String: Any]
            #expect((headerError?["message"] as? String)?.contains("unknown column 'kind'") == true)

            let county = try await Self.upload(face, "nanhu", text, type: "text/csv")
            let countyError = try #require(county.lines.last?["error"] as? [String: Any])
            #expect(countyError["code"] as? String == "permissionDenied")
        }
    }
}
