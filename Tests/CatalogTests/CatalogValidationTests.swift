import BenefitsDomain
import CatalogModel
import Foundation
import MeshTestSupport
import Testing

/// The catalog in the repository is valid, and each kind of mistake in a catalog file is caught and named
/// by file, clause and field.
@Suite("Catalog validation")
struct CatalogValidationTests {
    static let dataDirectory = "\(TestMesh.repositoryRoot)/Services/Catalog/Data"

    @Test("the repository catalog is valid against its source documents")
    func repositoryCatalogIsValid() throws {
        let catalog = try CatalogLoader.load(directory: Self.dataDirectory, sourcesDirectory: TestMesh.sourcesDirectory)
        #expect(catalog.documents.count >= 5)
        #expect(catalog.clauseCount >= 100)
        // Every cash clause that is paid without an application has an amount the formula fixes.
        for document in catalog.documents {
            for clause in document.clauses where clause.delivery == .proactive {
                if case .manual = clause.formula { Issue.record("\(clause.id) is proactive with a manual formula") }
                if case .capOnly = clause.formula { Issue.record("\(clause.id) is proactive with a capOnly formula") }
            }
        }
    }

    @Test("the green factory tiers read 150, 50 and 20 万元 from the clause text")
    func greenFactoryTiers() throws {
        let catalog = try CatalogLoader.load(directory: Self.dataDirectory)
        let greenFactories = catalog.search(.init(keyword: "绿色工厂")).filter {
            if case .tiers = $0.clause.formula { return true } else { return false }
        }
        let amounts = greenFactories.compactMap { result -> [Fen]? in
            guard case .tiers(_, let tiers, _) = result.clause.formula else { return nil }
            return tiers.map(\.amountFen)
        }
        #expect(amounts.contains([150_000_000, 50_000_000, 20_000_000]))
    }

    /// Copies the repository catalog to a temporary folder, lets `edit` break one file, and loads it.
    func loadBroken(_ file: String, _ edit: (inout [String: Any]) -> Void) throws -> [CatalogIssue] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try TestMesh.copyCatalogFiles(to: directory)
        let path = "\(directory)/\(file)"
        var json =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        edit(&json)
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        do {
            _ = try CatalogLoader.load(directory: directory, sourcesDirectory: TestMesh.sourcesDirectory)
            return []
        } catch let error as CatalogValidationError {
            return error.issues
        }
    }

    static func editFirstClause(_ json: inout [String: Any], _ edit: (inout [String: Any]) -> Void) {
        var clauses = json["clauses"] as! [[String: Any]]
        edit(&clauses[0])
        json["clauses"] = clauses
    }

    static func editClause(_ id: String, _ json: inout [String: Any], _ edit: (inout [String: Any]) -> Void) {
        var clauses = json["clauses"] as! [[String: Any]]
        let index = clauses.firstIndex { $0["id"] as? String == id }!
        edit(&clauses[index])
        json["clauses"] = clauses
    }

    @Test("分别最高 encoded as exact tiers is refused; with upTo it is a cap per tier")
    func cappedTiers() throws {
        let issues = try self.loadBroken("jzbf-2024-7.json") { json in
            Self.editClause("jzbf-2024-7/3.1e", &json) { clause in
                var formula = clause["formula"] as! [String: Any]
                formula.removeValue(forKey: "upTo")
                clause["formula"] = formula
            }
        }
        #expect(issues.contains { $0.clause == "jzbf-2024-7/3.1e" && $0.message.contains("分别最高") })
    }

    @Test("不低于60% encoded as a rate, 最高 as a fixed amount, 一定比例 as a rate: refused unless left to the department")
    func boundsAreNotExact() throws {
        let floor = try self.loadBroken("jzf-2023-3.json") { json in
            Self.editClause("jzf-2023-3/6.41", &json) { clause in
                clause["delivery"] = "onApplication"
                clause["formula"] = [
                    "kind": "insurancePremium", "base": "exportCreditInsurancePremium", "rateBasisPoints": 6000,
                    "capFen": 500_000_000,
                ]
            }
        }
        #expect(floor.contains { $0.clause == "jzf-2023-3/6.41" && $0.message.contains("不低于") })
        let cap = try self.loadBroken("jzbf-2023-38.json") { json in
            Self.editClause("jzbf-2023-38/2.2.5", &json) {
                $0["formula"] = ["kind": "fixed", "amountFen": 100_000_000]
            }
        }
        #expect(cap.contains { $0.clause == "jzbf-2023-38/2.2.5" && $0.message.contains("use capOnly") })
        let share = try self.loadBroken("jzbf-2023-38.json") { json in
            Self.editClause("jzbf-2023-38/2.4.16", &json) { clause in
                clause["delivery"] = "onApplication"
                clause["formula"] = [
                    "kind": "percentage", "base": "equipmentInvestment", "rateBasisPoints": 1000, "capFen": 50_000_000,
                ]
            }
        }
        #expect(share.contains { $0.clause == "jzbf-2023-38/2.4.16" && $0.message.contains("一定比例") })
    }

    @Test("any-of, overrides, exclusions and replacements are checked against the vocabulary and the catalog")
    func newConditionKinds() throws {
        let issues = try self.loadBroken("jzf-2023-3.json") { json in
            Self.editClause("jzf-2023-3/2.12", &json) { clause in
                var conditions = clause["conditions"] as! [[String: Any]]
                conditions[2]["overrides"] = [
                    ["value": 400, "whenRecognition": "highTechEnterprise", "whenFlag": "aboveDesignatedSize"]
                ]
                conditions.append(["kind": "anyOf", "conditions": [["kind": "flag", "fact": "aboveDesignatedSize"]]])
                conditions.append(["kind": "exclusion", "industries": ["casinos"]])
                clause["conditions"] = conditions
                clause["replaces"] = ["jzf-2023-3/9.99"]
            }
        }
        let messages = issues.filter { $0.clause == "jzf-2023-3/2.12" }.map(\.message)
        #expect(messages.contains { $0.contains("exactly one of whenRecognition and whenFlag") }, "\(messages)")
        #expect(messages.contains { $0.contains("at least two alternatives") }, "\(messages)")
        #expect(messages.contains { $0.contains("'casinos'") }, "\(messages)")
        #expect(messages.contains { $0.contains("'jzf-2023-3/9.99' is not another clause") }, "\(messages)")
    }

    @Test(
        "每项 and 单个项目 are paid per item: unmarked, without a single item, or an item paid unasked by its figure, refused"
    )
    func perItem() throws {
        let unmarked = try self.loadBroken("jzbf-2024-7.json") { json in
            Self.editClause("jzbf-2024-7/3.3a", &json) { $0.removeValue(forKey: "perItem") }
        }
        #expect(
            unmarked.contains {
                $0.clause == "jzbf-2024-7/3.3a" && $0.field == "perItem" && $0.message.contains("'单个项目'")
            },
            "\(unmarked)")
        let noItem = try self.loadBroken("jzf-2023-3.json") { json in
            Self.editClause("jzf-2023-3/2.12", &json) { $0["perItem"] = true }
        }
        #expect(
            noItem.contains { $0.clause == "jzf-2023-3/2.12" && $0.message.contains("names its item") }, "\(noItem)")
        let unasked = try self.loadBroken("jzbf-2023-38.json") { json in
            Self.editClause("jzbf-2023-38/2.1.4b", &json) { clause in
                clause["delivery"] = "proactive"
                clause["overlapGroup"] = "designAward"
            }
        }
        let messages = unasked.filter { $0.clause == "jzbf-2023-38/2.1.4b" && $0.field == "perItem" }.map(\.message)
        #expect(messages.contains { $0.contains("fixed or tiered by the item's level") }, "\(messages)")
        #expect(messages.contains { $0.contains("outside overlap groups") }, "\(messages)")
        let fixed = try self.loadBroken("jzbf-2023-38.json") { json in
            Self.editClause("jzbf-2023-38/2.1.4b", &json) { clause in
                clause["delivery"] = "proactive"
                clause["formula"] = ["kind": "fixed", "amountFen": 50_000_000]
            }
        }
        #expect(!fixed.contains { $0.clause == "jzbf-2023-38/2.1.4b" && $0.field == "perItem" }, "\(fixed)")
        let first = try self.loadBroken("jzbf-2023-38.json") { json in
            Self.editClause("jzbf-2023-38/2.1.4b", &json) { clause in
                var conditions = clause["conditions"] as! [[String: Any]]
                conditions[0]["first"] = true
                clause["conditions"] = conditions
            }
        }
        #expect(
            first.contains { $0.clause == "jzbf-2023-38/2.1.4b" && $0.message.contains("首次 cannot be asked of each") },
            "\(first)")
    }

    @Test(
        "with coverage.json, every sentence promising an amount is quoted or listed; a listed passage is verbatim, with its reason"
    )
    func coverage() throws {
        // 3.3a and 3.3b quote the agencies' and brokers' reward: without them the sentence is nobody's.
        let dropped = try self.loadBroken("jzbf-2024-7.json") { json in
            json["clauses"] = (json["clauses"] as! [[String: Any]]).filter {
                !["jzbf-2024-7/3.3a", "jzbf-2024-7/3.3b"].contains($0["id"] as? String)
            }
        }
        #expect(
            dropped.contains {
                $0.file == CatalogLoader.coverageFile && $0.field.hasPrefix("sources/")
                    && $0.message.contains("对科技中介服务机构、技术经纪(经理)人促成的技术开发")
            }, "\(dropped)")
        let listed = try self.loadBroken(CatalogLoader.coverageFile) { json in
            var passages = json["passages"] as! [[String: Any]]
            passages[0]["text"] = "原文里没有这句话"
            passages[1]["reason"] = " "
            json["passages"] = passages
        }
        #expect(listed.contains { $0.field == "passages[0].text" && $0.message.contains("not found verbatim") })
        #expect(listed.contains { $0.field == "passages[1].reason" })
        // The passage no longer listed is an uncovered promise again.
        #expect(
            listed.contains { $0.field.hasPrefix("sources/") && $0.message.contains("以生产性服务业和生活性服务业") }, "\(listed)")
    }

    @Test("a level a recognition names must be declared with its name")
    func undeclaredLevel() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try TestMesh.copyCatalogFiles(to: directory)
        let path = "\(directory)/vocabulary.json"
        var json =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        json["levels"] = (json["levels"] as! [[String: Any]]).filter { $0["id"] as? String != "fiveStar" }
        try JSONSerialization.data(withJSONObject: json).write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: CatalogValidationError.self) {
            try CatalogLoader.load(directory: directory, sourcesDirectory: TestMesh.sourcesDirectory)
        }
        #expect(error.issues.contains { $0.message.contains("level 'fiveStar' is not declared") })
    }

    @Test("an amount that is not in the clause text is refused")
    func amountNotInText() throws {
        let issues = try self.loadBroken("jzbf-2023-32.json") { json in
            Self.editFirstClause(&json) { $0["formula"] = ["kind": "fixed", "amountFen": 310_000_000] }
        }
        let issue = try #require(issues.first)
        #expect(issue.file == "jzbf-2023-32.json")
        #expect(issue.clause == "jzbf-2023-32/4.1a")
        #expect(issue.field == "formula.amountFen")
        #expect(issue.message.contains("310万元"))
    }

    @Test("a decision deadline outside 1 to 120 working days is refused; one inside is kept")
    func decisionWorkingDays() throws {
        let issues = try self.loadBroken("jzbf-2023-32.json") { json in
            Self.editFirstClause(&json) { $0["decisionWorkingDays"] = 0 }
        }
        #expect(
            issues.contains {
                $0.clause == "jzbf-2023-32/4.1a" && $0.field == "decisionWorkingDays" && $0.message.contains("1 to 120")
            })
        let fine = try self.loadBroken("jzbf-2023-32.json") { json in
            Self.editFirstClause(&json) { $0["decisionWorkingDays"] = 10 }
        }
        #expect(!fine.contains { $0.field == "decisionWorkingDays" })
    }

    @Test("a text that is not verbatim in the seed is refused")
    func textNotVerbatim() throws {
        let issues = try self.loadBroken("jzbf-2023-32.json") { json in
            Self.editFirstClause(&json) { $0["text"] = "对新认定的单项冠军企业给予300万元奖励,另加100万元。" }
        }
        #expect(
            issues.contains {
                $0.clause == "jzbf-2023-32/4.1a" && $0.field == "text" && $0.message.contains("not found verbatim")
            })
    }

    @Test("dates out of order are refused")
    func datesOutOfOrder() throws {
        let issues = try self.loadBroken("jzbf-2023-32.json") { json in json["effectiveUntil"] = "2023-01-01" }
        #expect(
            issues.contains {
                $0.file == "jzbf-2023-32.json" && $0.field == "effectiveUntil"
                    && $0.message.contains("before effectiveFrom")
            })
    }

    @Test("an impossible date names the field")
    func impossibleDate() throws {
        let issues = try self.loadBroken("jzbf-2023-32.json") { json in json["issueDate"] = "2023-02-30" }
        #expect(issues.contains { $0.field == "issueDate" && $0.message.contains("2023-02-30") })
    }

    @Test("a duplicate clause id is refused")
    func duplicateClauseID() throws {
        let issues = try self.loadBroken("jzbf-2023-32.json") { json in
            var clauses = json["clauses"] as! [[String: Any]]
            clauses[1]["id"] = clauses[0]["id"]
            json["clauses"] = clauses
        }
        #expect(issues.contains { $0.field == "id" && $0.message.contains("used twice") })
    }

    @Test("a fact missing from the vocabulary is refused")
    func undeclaredFact() throws {
        let issues = try self.loadBroken("jzbf-2023-32.json") { json in
            Self.editFirstClause(&json) { $0["conditions"] = [["kind": "flag", "fact": "hasUnicorn"]] }
        }
        #expect(issues.contains { $0.field == "conditions[0]" && $0.message.contains("hasUnicorn") })
    }

    @Test("a wrong type names the file and the field path")
    func wrongType() throws {
        let issues = try self.loadBroken("jzbf-2023-32.json") { json in
            Self.editFirstClause(&json) { $0["cash"] = "yes" }
        }
        let issue = try #require(issues.first)
        #expect(issue.file == "jzbf-2023-32.json")
        #expect(issue.field == "clauses[0].cash")
    }

    @Test("a catalog folder is checked against its own sources folder by default")
    func defaultSourcesAreChecked() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: "\(directory)/sources", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try TestMesh.copyCatalogFiles(to: directory)
        for name in try FileManager.default.contentsOfDirectory(atPath: TestMesh.sourcesDirectory)
        where name.hasSuffix(".txt") {
            // Every source but one, which is there but says something else.
            let text =
                name == "001_f9fde01963eb4171.txt"
                ? "嘉政发〔2023〕3号" : try String(contentsOfFile: "\(TestMesh.sourcesDirectory)/\(name)", encoding: .utf8)
            try text.write(toFile: "\(directory)/sources/\(name)", atomically: true, encoding: .utf8)
        }
        let error = try #require(throws: CatalogValidationError.self) { try CatalogLoader.load(directory: directory) }
        #expect(error.issues.contains { $0.file == "jzf-2023-3.json" && $0.message.contains("not found verbatim") })
        // …and the passages coverage.json lists from that source are not there either.
        #expect(
            !error.issues.contains {
                $0.file != "jzf-2023-3.json"
                    && !($0.file == CatalogLoader.coverageFile && $0.message.contains("001_f9fde01963eb4171.txt"))
            })
    }

    @Test("a missing source file is an error naming the file, never a skipped check")
    func missingSourceIsNamed() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID().uuidString)")
            .path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try TestMesh.copyCatalogFiles(to: directory)
        let error = try #require(throws: CatalogValidationError.self) { try CatalogLoader.load(directory: directory) }
        let missing = error.issues.filter { $0.field == "sources" }
        #expect(
            missing.contains {
                $0.file == "jzf-2023-3.json" && $0.message.contains("'001_f9fde01963eb4171.txt' not found")
            })
        // One problem per document and missing file, not one per quoted text.
        #expect(error.issues.allSatisfy { $0.field == "sources" })
    }

    @Test("amounts are written the way the documents write them")
    func moneyFormatting() {
        #expect(Money.chinese(150_000_000) == "150万元")
        #expect(Money.chinese(2_500_000) == "2.5万元")
        #expect(Money.chinese(20_000_000_000) == "2亿元")
        #expect(Money.chinese(12_345) == "123.45元")
        #expect(Money.percent(basisPoints: 2_000) == "20%")
        #expect(Money.percent(basisPoints: 150) == "1.5%")
    }
}
