import BenefitsAPI
import BenefitsDomain
import CatalogModel
import CatalogService
import Foundation
import MeshMessages
import MeshRPC
import MeshTestSupport
import Testing

/// The catalog service over the mesh protocol with mutual TLS.
@Suite("Catalog service")
struct CatalogServiceTests {
    static func withCatalogServer<Result>(
        directory: String = CatalogValidationTests.dataDirectory,
        _ body: (MeshClient, CatalogStore) async throws -> Result
    ) async throws -> Result {
        let store = try CatalogStore(
            directory: directory, sourcesDirectory: TestMesh.sourcesDirectory, logger: TestMesh.logger)
        var router = RPCRouter()
        CatalogHandlers(store: store).register(into: &router)
        return try await TestMesh.withServer(router: router) { _, port in
            let client = TestMesh.client(port: port)
            defer { Task { await client.close() } }
            return try await body(client, store)
        }
    }

    static func date(_ text: String) -> Jiaxing_Benefits_V1_Date { CalendarDate(text)!.message }

    @Test("a clause comes back with its verbatim text, departments and formula")
    func getClause() async throws {
        try await Self.withCatalogServer { client, _ in
            var request = Jiaxing_Benefits_V1_GetClauseRequest()
            request.id = "jzbf-2023-32/4.1a"
            let clause: Jiaxing_Benefits_V1_Clause = try await client.unary(CatalogMethods.getClause, request)
            #expect(clause.text.contains("单项冠军企业"))
            #expect(clause.text.contains("300万元"))
            #expect(clause.responsibleDepartments.contains("市经信局"))
            #expect(clause.formula.fixed.amountFen == 300_000_000)
            #expect(clause.stacking.rule == .highestOnly)
        }
    }

    @Test("an unknown clause is notFound and a missing id is invalidArgument")
    func unknownClause() async throws {
        try await Self.withCatalogServer { client, _ in
            var request = Jiaxing_Benefits_V1_GetClauseRequest()
            request.id = "jzbf-2099-1/1"
            let error = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_Clause = try await client.unary(CatalogMethods.getClause, request)
            }
            #expect(error?.code == .notFound)
            #expect(error?.message.contains("jzbf-2099-1/1") == true)
            let missing = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_Clause = try await client.unary(
                    CatalogMethods.getClause, Jiaxing_Benefits_V1_GetClauseRequest())
            }
            #expect(missing?.code == .invalidArgument)
            #expect(missing?.message.hasPrefix("id:") == true)
        }
    }

    @Test("as-of queries include a document from its first day to its last and not a day outside")
    func asOfAroundEffectiveDates() async throws {
        try await Self.withCatalogServer { client, store in
            for document in store.catalog.documents {
                func inForce(_ date: CalendarDate) async throws -> Bool {
                    var request = Jiaxing_Benefits_V1_ListDocumentsRequest()
                    request.asOf = date.message
                    let response: Jiaxing_Benefits_V1_ListDocumentsResponse = try await client.unary(
                        CatalogMethods.listDocuments, request)
                    return response.documents.contains { $0.id == document.id }
                }
                let dayBefore = try await inForce(document.effectiveFrom.adding(days: -1))
                let firstDay = try await inForce(document.effectiveFrom)
                #expect(!dayBefore, "\(document.id) before \(document.effectiveFrom)")
                #expect(firstDay, "\(document.id) on \(document.effectiveFrom)")
                if let until = document.effectiveUntil {
                    let lastDay = try await inForce(until)
                    let dayAfter = try await inForce(until.adding(days: 1))
                    #expect(lastDay, "\(document.id) on \(until)")
                    #expect(!dayAfter, "\(document.id) after \(until)")
                }
            }
        }
    }

    @Test("an impossible as-of date is invalidArgument naming the field")
    func badDate() async throws {
        try await Self.withCatalogServer { client, _ in
            var request = Jiaxing_Benefits_V1_SearchClausesRequest()
            request.asOf.year = 2023
            request.asOf.month = 2
            request.asOf.day = 30
            let error = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_SearchClausesResponse = try await client.unary(
                    CatalogMethods.searchClauses, request)
            }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.hasPrefix("as_of:") == true)
        }
    }

    @Test("search by department, kind and Chinese keyword")
    func search() async throws {
        try await Self.withCatalogServer { client, store in
            var request = Jiaxing_Benefits_V1_SearchClausesRequest()
            request.department = "市商务局"
            request.keyword = "外资"
            let response: Jiaxing_Benefits_V1_SearchClausesResponse = try await client.unary(
                CatalogMethods.searchClauses, request)
            #expect(!response.clauses.isEmpty)
            #expect(response.revision == store.catalog.revision)
            for clause in response.clauses {
                #expect(clause.responsibleDepartments.contains { $0.contains("市商务局") })
                #expect(clause.title.contains("外资") || clause.text.contains("外资") || clause.notes.contains("外资"))
            }
            var badKind = Jiaxing_Benefits_V1_SearchClausesRequest()
            badKind.benefitKind = "lottery"
            let error = await #expect(throws: RPCError.self) {
                let _: Jiaxing_Benefits_V1_SearchClausesResponse = try await client.unary(
                    CatalogMethods.searchClauses, badKind)
            }
            #expect(error?.message.hasPrefix("benefit_kind:") == true)
        }
    }

    @Test("the snapshot converts back to the same catalog")
    func snapshotRoundTrip() async throws {
        try await Self.withCatalogServer { client, store in
            let snapshot: Jiaxing_Benefits_V1_CatalogSnapshot = try await client.unary(
                CatalogMethods.getCatalog, Jiaxing_Benefits_V1_GetCatalogRequest())
            let catalog = try Catalog(snapshot: snapshot)
            #expect(catalog.revision == store.catalog.revision)
            #expect(catalog.clauseCount == store.catalog.clauseCount)
            for document in store.catalog.documents {
                let copy = try #require(catalog.document(id: document.id))
                #expect(copy.clauses.map(\.formula) == document.clauses.map(\.formula))
                #expect(copy.clauses.map(\.conditions) == document.clauses.map(\.conditions))
                #expect(copy.effectiveUntil == document.effectiveUntil)
            }
        }
    }

    @Test("the file watcher reloads on a new calendar year, and a cancelled watcher ends at once")
    func fileWatcher() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "catalog-watcher-\(UUID().uuidString)"
        ).path
        try FileManager.default.copyItem(atPath: CatalogValidationTests.dataDirectory, toPath: directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try CatalogStore(directory: directory, logger: TestMesh.logger)
        let first = store.catalog.revision
        #expect(store.catalog.calendar.provisionalYears.contains(2027))
        let watcher = CatalogFileWatcher(store: store, interval: .milliseconds(50))
        try #"{"year": 2027, "source": "test notice", "holidays": [], "workingWeekends": []}"#
            .write(toFile: "\(directory)/calendar/2027.json", atomically: true, encoding: .utf8)
        // One look, as the running watcher takes every interval: the new year file is a change.
        let after = watcher.reloadIfChanged(since: watcher.initial)
        #expect(after != watcher.initial)
        #expect(store.catalog.revision != first)
        #expect(!store.catalog.calendar.provisionalYears.contains(2027))
        #expect(watcher.reloadIfChanged(since: after) == after)
        // Cancelled, as the service group cancels its services when one fails: run returns rather than spin
        // (a watcher that spins would hold this test until the group below gives up on it).
        let ended = try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                let running = Task { try await watcher.run() }
                running.cancel()
                try await running.value
                return true
            }
            group.addTask {
                try await Task.sleep(for: .seconds(60))
                return false
            }
            let first = try await group.next()!
            group.cancelAll()
            return first
        }
        #expect(ended, "a cancelled watcher did not return")
    }

    @Test("watch tells of a new revision; a broken file keeps the last good one")
    func watch() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "catalog-watch-\(UUID().uuidString)"
        ).path
        try FileManager.default.copyItem(atPath: CatalogValidationTests.dataDirectory, toPath: directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await Self.withCatalogServer(directory: directory) { client, store in
            let first = store.catalog.revision
            let revisions = try await client.serverStreaming(
                CatalogMethods.watch, Jiaxing_Benefits_V1_WatchCatalogRequest(),
                options: CallOptions(timeout: .seconds(10))
            ) {
                (responses: ResponseStream<Jiaxing_Benefits_V1_CatalogRevision>) in
                var seen: [String] = []
                for try await revision in responses {
                    seen.append(revision.revision)
                    if seen.count == 1 {
                        // A reviewed change: the notes of one clause.
                        let path = "\(directory)/jzbf-2023-32.json"
                        let text = try String(contentsOfFile: path, encoding: .utf8)
                        try text.replacingOccurrences(
                            of: "\"title\": \"新认定单项冠军企业奖励\"", with: "\"title\": \"新认定单项冠军企业奖励(复核)\""
                        ).write(toFile: path, atomically: true, encoding: .utf8)
                        store.reload()
                    }
                    if seen.count == 2 { break }
                }
                return seen
            }
            #expect(revisions.first == first)
            #expect(revisions.count == 2)
            #expect(revisions.last != first)
            // A broken file is rejected and the last good revision goes on being served.
            let good = store.catalog.revision
            try "{ not json".write(toFile: "\(directory)/jzbf-2023-36.json", atomically: true, encoding: .utf8)
            guard case .rejected(let error) = store.reload() else {
                Issue.record("a broken file was accepted")
                return
            }
            #expect(error.issues.contains { $0.file == "jzbf-2023-36.json" })
            let snapshot: Jiaxing_Benefits_V1_CatalogSnapshot = try await client.unary(
                CatalogMethods.getCatalog, Jiaxing_Benefits_V1_GetCatalogRequest())
            #expect(snapshot.revision == good)
        }
    }
}
