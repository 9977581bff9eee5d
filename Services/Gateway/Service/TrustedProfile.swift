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
}
