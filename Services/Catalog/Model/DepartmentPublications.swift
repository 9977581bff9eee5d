import BenefitsDomain
import Foundation
import MeshMessages

/// A register's records turned into what each responsible department would publish: for a department
/// loading its lists from the profiles a county system exports, and for the demo and the chaos run, whose
/// sample enterprises carry their recognitions, projects and figures in one file.
public enum DepartmentPublications {
    /// Each record of an attested kind, under its first attesting department, with the reference
    /// `<prefix><kind>#<credit code>/<n>` (n counts the enterprise's records of that kind); records the
    /// county registers itself are left out.
    public static func records(
        of profiles: [Jiaxing_Benefits_V1_EnterpriseProfile], vocabulary: Vocabulary, referencePrefix: String
    ) -> [Department: [Jiaxing_Benefits_V1_PublishedRecord]] {
        var lists: [Department: [Jiaxing_Benefits_V1_PublishedRecord]] = [:]
        for profile in profiles {
            var counts: [String: Int] = [:]
            func add(_ kind: Vocabulary.RecordKind, _ fill: (inout Jiaxing_Benefits_V1_PublishedRecord) -> Void) {
                guard let department = vocabulary.attesters(of: kind)?.first else { return }
                let count = counts[kind.id, default: 0] + 1
                counts[kind.id] = count
                var record = Jiaxing_Benefits_V1_PublishedRecord()
                record.creditCode = profile.creditCode
                record.reference = "\(referencePrefix)\(kind.id)#\(profile.creditCode)/\(count)"
                fill(&record)
                lists[department, default: []].append(record)
            }
            for recognition in profile.recognitions {
                add(.recognition(recognition.recognition)) { $0.recognition = recognition }
            }
            for project in profile.projects { add(.project(project.kind)) { $0.project = project } }
            for fact in profile.facts {
                add(.fact(fact.fact)) { $0.fact = fact }
            }
        }
        return lists
    }

    /// The vocabulary of a catalog folder (`vocabulary.json`), for callers that hold the files rather than a
    /// catalog replica.
    public static func vocabulary(catalogDirectory: String) throws -> Vocabulary {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(catalogDirectory)/vocabulary.json"))
        return try JSONDecoder().decode(Vocabulary.self, from: data)
    }
}
