import BenefitsAPI
import BenefitsDomain
import CatalogModel
import Foundation
import GatewayService
import MeshIdentity
import MeshMessages
import MeshRPC
import MeshTestSupport
import Testing

/// Facts with provenance: the departments publish the records they hold, and the mesh pays without an
/// application on those alone; a county's own record of a recognition is its word, reported but not paid.
@Suite("Attested records")
struct AttestedRecordsTests {
    static func record(
        _ creditCode: String, _ reference: String, recognition: String = "greenFactory", level: String = "municipal"
    ) -> Jiaxing_Benefits_V1_PublishedRecord {
        var record = Jiaxing_Benefits_V1_PublishedRecord()
        record.creditCode = creditCode
        record.reference = reference
        record.recognition.recognition = recognition
        record.recognition.level = level
        record.recognition.recognizedOn = CalendarDate("2023-07-01")!.message
        return record
    }

    static func publish(_ client: MeshClient, _ records: [Jiaxing_Benefits_V1_PublishedRecord]) async throws
        -> Jiaxing_Benefits_V1_PublishRecordsResponse
    {
        var request = Jiaxing_Benefits_V1_PublishRecordsRequest()
        request.records = records
        return try await client.unary(GatewayMethods.publishRecords, request)
    }

    @Test("a department publishes only the kinds it attests; each refused line names its field, the rest is published")
    func onlyItsOwnKinds() async throws {
        try await GatewayTests.withMesh { mesh in
            let keji = mesh.client("keji", .department)
            let nanhu = mesh.client("nanhu", .county)
            let operatorClient = mesh.client("operator", .operator)
            defer { Task { for client in [keji, nanhu, operatorClient] { await client.close() } } }
            let code = CreditCode.completing("91330402MA2B00011")!.value
            let response = try await Self.publish(
                keji,
                [
                    Self.record(code, "科技局名单#1", recognition: "greenFactory"),
                    Self.record(code, "科技局名单#2", recognition: "highTechEnterprise", level: "national"),
                    Self.record(code, " ", recognition: "highTechEnterprise", level: "national"),
                    Self.record(code, String(repeating: "号", count: 129), recognition: "highTechEnterprise"),
                    Self.record(code, "科技局名单#5", recognition: "highTechEnterprise", level: "county"),
                    Self.record("91330402MA2B0001", "科技局名单#6", recognition: "highTechEnterprise"),
                    Self.record(code, "科技局名单#2", recognition: "highTechEnterprise", level: "national"),
                ])
            #expect(response.published == 1)
            let refusals = Dictionary(uniqueKeysWithValues: response.refused.map { ($0.index, $0.message) })
            #expect(refusals.keys.sorted() == [0, 2, 3, 4, 5, 6])
            #expect(refusals[0]?.hasPrefix("records[0].recognition: 市科技局 does not attest greenFactory") == true)
            #expect(refusals[0]?.contains("市经信局") == true)
            #expect(refusals[2]?.hasPrefix("records[2].reference:") == true)
            #expect(refusals[3]?.contains("at most 128 characters") == true)
            #expect(refusals[4]?.hasPrefix("records[4].recognition.level:") == true, "\(refusals[4] ?? "")")
            #expect(refusals[5]?.hasPrefix("records[5].credit_code:") == true)
            #expect(refusals[6]?.contains("appears twice") == true)
            // Counties and the operator vouch for no department's records.
            for client in [nanhu, operatorClient] {
                let refused = await #expect(throws: RPCError.self) {
                    _ = try await Self.publish(client, [Self.record(code, "县里#1")])
                }
                #expect(refused?.code == .permissionDenied)
            }
            #expect(
                mesh.audit.entries().contains {
                    $0["method"] == "PublishRecords" && $0["caller"] == "department/keji" && $0["published"] == "1"
                        && $0["refused"] == "6"
                })
        }
    }

    @Test(
        "paid on the department's record, not the county's: a correction pays its level, a withdrawal pays nothing, history kept",
        arguments: TestStore.allCases)
    func paidOnAttestedRecords(store: TestStore) async throws {
        try await GatewayTests.withMesh(store: store) { mesh in
            let nanhu = mesh.client("nanhu", .county)
            let jingxin = mesh.client("jingxin", .department)
            defer { Task { for client in [nanhu, jingxin] { await client.close() } } }
            func screenAndPropose(_ body: String) async throws -> Jiaxing_Benefits_V1_ScreenAndProposeResponse {
                var request = Jiaxing_Benefits_V1_ScreenAndProposeRequest()
                // The county's own record says national (150万元).
                request.screen = GatewayTests.request(county: .nanhu, body: body)
                request.screen.includeIneligible = true
                return try await nanhu.unary(GatewayMethods.screenAndPropose, request)
            }
            let first = CreditCode.completing("91330402MA2B00021")!.value
            let second = CreditCode.completing("91330402MA2B00022")!.value

            // Before any department speaks: nothing proposed, the county's record reported as unattested.
            let unattested = try await screenAndPropose("91330402MA2B00021")
            #expect(unattested.proposals.isEmpty)
            #expect(unattested.unattested.map(\.citation.clauseID) == ["jzf-2023-3/3.19b"])
            #expect(unattested.unattested.first?.amountFen == 150_000_000)

            // 市经信局's list says municipal, then corrects it to provincial under the same reference.
            var published = try await Self.publish(jingxin, [Self.record(first, "浙经信〔2023〕45号#17")])
            #expect(published.published == 1)
            published = try await Self.publish(jingxin, [Self.record(first, "浙经信〔2023〕45号#17")])
            #expect(published.unchanged == 1 && published.published == 0)
            published = try await Self.publish(
                jingxin, [Self.record(first, "浙经信〔2023〕45号#17", level: "provincial")])
            #expect(published.published == 1)

            let paid = try await screenAndPropose("91330402MA2B00021")
            #expect(paid.proposals.count == 1)
            let order = try #require(paid.proposals.first?.order)
            #expect(order.amountFen == 50_000_000)  // the department's level, not the county's
            #expect(paid.unattested.isEmpty)  // 3.19b is paid, at the level the department attests
            let decision = try #require(
                paid.screening.decisions.first { $0.citation.clauseID == "jzf-2023-3/3.19b" && $0.status == .eligible })
            #expect(
                decision.conditions.contains { $0.factUsed.contains("据市经信局 浙经信〔2023〕45号#17") },
                "\(decision.conditions.map(\.factUsed))")

            // A withdrawn record pays nothing from then on.
            _ = try await Self.publish(jingxin, [Self.record(second, "浙经信〔2023〕45号#18", level: "national")])
            var withdrawal = Self.record(second, "浙经信〔2023〕45号#18", level: "national")
            withdrawal.withdrawn = true
            published = try await Self.publish(jingxin, [withdrawal])
            #expect(published.withdrawn == 1)
            let withdrawn = try await screenAndPropose("91330402MA2B00022")
            #expect(withdrawn.proposals.isEmpty)

            // The county reads the history of its enterprise's records.
            var list = Jiaxing_Benefits_V1_ListPublishedRecordsRequest()
            list.creditCode = first
            let history: Jiaxing_Benefits_V1_ListPublishedRecordsResponse = try await nanhu.unary(
                GatewayMethods.listPublishedRecords, list)
            #expect(history.versions.map(\.version) == [1, 2])
            #expect(history.versions.map(\.record.recognition.level) == ["municipal", "provincial"])
            #expect(history.nextPageToken.isEmpty)

            // A history that grows with every correction is read a page at a time: five more versions, two a
            // page, each once and in order; a page too large or a token of another list is refused, named.
            for level in ["national", "municipal", "provincial", "national", "municipal"] {
                _ = try await Self.publish(jingxin, [Self.record(first, "浙经信〔2023〕45号#17", level: level)])
            }
            var versions: [Int32] = []
            list.limit = 2
            repeat {
                let page: Jiaxing_Benefits_V1_ListPublishedRecordsResponse = try await nanhu.unary(
                    GatewayMethods.listPublishedRecords, list)
                #expect(page.versions.count <= 2)
                versions += page.versions.map(\.version)
                list.pageToken = page.nextPageToken
            } while !list.pageToken.isEmpty && versions.count < 20
            #expect(versions == [1, 2, 3, 4, 5, 6, 7])
            for (limit, token, field) in [(Int32(1_001), "", "limit: "), (2, "bm90LWEtdG9rZW4", "page_token: ")] {
                list.limit = limit
                list.pageToken = token
                let refused = await #expect(throws: RPCError.self) {
                    let _: Jiaxing_Benefits_V1_ListPublishedRecordsResponse = try await nanhu.unary(
                        GatewayMethods.listPublishedRecords, list)
                }
                #expect(refused?.code == .invalidArgument)
                #expect(refused?.message.hasPrefix(field) == true, "\(refused?.message ?? "")")
            }
            #expect(try await mesh.ledger.reconcile() == [])
        }
    }

    @Test(
        "a rejected order stands while the facts do; the department's corrected record proposes again, naming it",
        arguments: TestStore.allCases)
    func proposedAgainOnCorrectedFacts(store: TestStore) async throws {
        try await GatewayTests.withMesh(store: store) { mesh in
            let nanhu = mesh.client("nanhu", .county)
            let jingxin = mesh.client("jingxin", .department)
            defer { Task { for client in [nanhu, jingxin] { await client.close() } } }
            func screenAndPropose() async throws -> Jiaxing_Benefits_V1_PayoutOrder {
                var request = Jiaxing_Benefits_V1_ScreenAndProposeRequest()
                request.screen = GatewayTests.request(county: .nanhu, body: "91330402MA2B00031")
                let response: Jiaxing_Benefits_V1_ScreenAndProposeResponse = try await nanhu.unary(
                    GatewayMethods.screenAndPropose, request)
                #expect(response.screening.decisions.allSatisfy { !$0.hasSeal }, "seals are not the county's")
                return try #require(response.proposals.first?.order, "\(response.proposals)")
            }
            let code = CreditCode.completing("91330402MA2B00031")!.value
            _ = try await Self.publish(jingxin, [Self.record(code, "浙经信〔2023〕45号#31")])
            let first = try await screenAndPropose()
            #expect(first.amountFen == 20_000_000)
            #expect(first.basis.count == 64)
            var reject = Jiaxing_Benefits_V1_DecideRequest()
            reject.orderID = first.id
            reject.reason = "名单级别有误，待更正"
            let rejected: Jiaxing_Benefits_V1_PayoutOrder = try await jingxin.unary(GatewayMethods.reject, reject)
            #expect(rejected.status == .rejected)

            // The county sends its profile again (its registration is stamped anew): the facts did not change.
            let unchanged = try await screenAndPropose()
            #expect(unchanged.id == first.id && unchanged.status == .rejected && unchanged.replayed)

            // 市经信局 corrects the level under the same reference: a new order for the item, naming the first.
            _ = try await Self.publish(jingxin, [Self.record(code, "浙经信〔2023〕45号#31", level: "provincial")])
            let again = try await screenAndPropose()
            #expect(again.id != first.id)
            #expect(again.amountFen == 50_000_000)
            #expect(again.status == .pending)
            #expect(again.previousOrderID == first.id)
            #expect(again.basis != first.basis)
            #expect(try await mesh.ledger.reconcile() == [])
        }
    }

    @Test("the trusted profile: the county's identity and own kinds, the departments' records of theirs, sourced")
    func trustedProfile() throws {
        let vocabulary = GatewayTests.catalog.vocabulary
        var registered = Jiaxing_Benefits_V1_EnterpriseProfile()
        registered.creditCode = CreditCode.completing("91330402MA2B00031")!.value
        registered.name = "南湖示例公司"
        registered.county = .nanhu
        registered.industry = vocabulary.industries[0].id
        var greenFactory = Jiaxing_Benefits_V1_RecognitionRecord()
        greenFactory.recognition = "greenFactory"
        registered.recognitions = [greenFactory]
        var size = Jiaxing_Benefits_V1_FactRecord()
        size.fact = "aboveDesignatedSize"
        size.flag = true
        var digital = Jiaxing_Benefits_V1_FactRecord()
        digital.fact = "digitalInvestment"
        digital.amount = 1
        registered.facts = [size, digital]
        func version(_ department: String, _ record: Jiaxing_Benefits_V1_PublishedRecord)
            -> Jiaxing_Benefits_V1_PublishedRecordVersion
        {
            var version = Jiaxing_Benefits_V1_PublishedRecordVersion()
            version.department = department
            version.version = 1
            version.publishedAtMillis = 42
            version.record = record
            return version
        }
        var attestedDigital = Jiaxing_Benefits_V1_PublishedRecord()
        attestedDigital.reference = "验收〔2023〕3号"
        attestedDigital.fact.fact = "digitalInvestment"
        attestedDigital.fact.amount = 4_000_000_00
        let trusted = TrustedProfile.build(
            registered: registered,
            attested: [
                version("jingxin", Self.record(registered.creditCode, "浙经信〔2023〕45号#17")),
                version("keji", Self.record(registered.creditCode, "科技局#1")),  // not keji's to attest
                version("jingxin", attestedDigital),
            ],
            vocabulary: vocabulary)
        #expect(trusted.name == registered.name && trusted.county == .nanhu && trusted.industry == registered.industry)
        #expect(trusted.recognitions.count == 1)
        #expect(trusted.recognitions[0].id == "浙经信〔2023〕45号#17")
        #expect(trusted.recognitions[0].source.kind == .attested && trusted.recognitions[0].source.party == "jingxin")
        #expect(trusted.facts.map(\.fact) == ["aboveDesignatedSize", "digitalInvestment"])
        #expect(trusted.facts[1].amount == 4_000_000_00 && trusted.facts[1].source.kind == .attested)
        #expect(trusted.facts[1].source.chineseDescription == "据市经信局 验收〔2023〕3号")
    }

    @Test("the sample lists: each record under the department the vocabulary names for its kind")
    func departmentLists() {
        let vocabulary = GatewayTests.catalog.vocabulary
        var profile = GatewayTests.request(county: .nanhu).profile
        var highTech = Jiaxing_Benefits_V1_RecognitionRecord()
        highTech.recognition = "highTechEnterprise"
        profile.recognitions.append(highTech)
        var size = Jiaxing_Benefits_V1_FactRecord()
        size.fact = "aboveDesignatedSize"
        size.flag = true
        profile.facts = [size]
        let lists = DepartmentPublications.records(of: [profile], vocabulary: vocabulary, referencePrefix: "名单 ")
        #expect(Set(lists.keys) == [.jingxin, .keji])
        #expect(lists[.jingxin]?.map(\.reference) == ["名单 greenFactory#\(profile.creditCode)/1"])
        #expect(lists[.keji]?.first?.recognition.recognition == "highTechEnterprise")
    }
}
