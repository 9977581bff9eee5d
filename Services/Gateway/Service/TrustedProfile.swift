import BenefitsDomain
import CatalogModel
import MeshMessages

/// The profile a payout may rest on: who the enterprise is and what its county may vouch for (identity,
/// size, industry, location), from the register; every recognition, project and held figure from the
/// department responsible for it, as published. What the county wrote of a kind a department holds is
/// left out, so no proposal rests on a county's word for a 绿色工厂 or a 数字化投入.
public enum TrustedProfile {
    /// The register's profile with its county's records of attested kinds removed and the departments'
    /// current records added, each stamped with its source and carrying its reference as the item's id.
    public static func build(
        registered: Jiaxing_Benefits_V1_EnterpriseProfile, attested: [Jiaxing_Benefits_V1_PublishedRecordVersion],
        vocabulary: Vocabulary
    ) -> Jiaxing_Benefits_V1_EnterpriseProfile {
        var trusted = Jiaxing_Benefits_V1_EnterpriseProfile()
        trusted.creditCode = registered.creditCode
        trusted.name = registered.name
        trusted.county = registered.county
        trusted.industry = registered.industry
        trusted.facts = registered.facts.filter { vocabulary.attesters(of: .fact($0.fact))?.isEmpty == true }
        for version in attested {
            guard let department = Department(rawValue: version.department) else { continue }
            let source = Jiaxing_Benefits_V1_RecordSource.vouched(
                .attested, by: department.rawValue, reference: version.record.reference,
                at: version.publishedAtMillis)
            switch version.record.record {
            case .recognition(var record)
            where vocabulary.attesters(of: .recognition(record.recognition))?.contains(department) == true:
                record.source = source
                if record.id.isEmpty { record.id = version.record.reference }
                trusted.recognitions.append(record)
            case .project(var record)
            where vocabulary.attesters(of: .project(record.kind))?.contains(department) == true:
                record.source = source
                if record.id.isEmpty { record.id = version.record.reference }
                trusted.projects.append(record)
            case .fact(var record) where vocabulary.attesters(of: .fact(record.fact))?.contains(department) == true:
                record.source = source
                trusted.facts.append(record)
            default:
                // A kind the department no longer attests (the vocabulary changed since): not trusted.
                continue
            }
        }
        return trusted
    }

    /// What the county's register says that no department vouches for: its records of the kinds a department
    /// holds where the trusted profile has none of that kind (recognition, project kind, fact and year),
    /// stamped DECLARED by the county. An application may rest on them; the department checks them.
    public static func declarations(
        of registered: Jiaxing_Benefits_V1_EnterpriseProfile, beside trusted: Jiaxing_Benefits_V1_EnterpriseProfile,
        vocabulary: Vocabulary, at millis: Int64
    ) -> (
        recognitions: [Jiaxing_Benefits_V1_RecognitionRecord], projects: [Jiaxing_Benefits_V1_ProjectRecord],
        facts: [Jiaxing_Benefits_V1_FactRecord]
    ) {
        let source = Jiaxing_Benefits_V1_RecordSource.vouched(
            .declared, by: County(message: registered.county)?.partyName ?? "", at: millis)
        let attestedRecognitions = Set(trusted.recognitions.map(\.recognition))
        let attestedProjects = Set(trusted.projects.map(\.kind))
        let heldFacts = Set(trusted.facts.map { "\($0.fact)/\($0.year)" })
        let recognitions = registered.recognitions.filter { !attestedRecognitions.contains($0.recognition) }.map {
            record in
            var record = record
            record.source = source
            return record
        }
        let projects = registered.projects.filter { !attestedProjects.contains($0.kind) }.map { record in
            var record = record
            record.source = source
            return record
        }
        let facts = registered.facts.filter {
            vocabulary.attesters(of: .fact($0.fact))?.isEmpty == false && !heldFacts.contains("\($0.fact)/\($0.year)")
        }.map {
            record in
            var record = record
            record.source = source
            return record
        }
        return (recognitions, projects, facts)
    }
}
