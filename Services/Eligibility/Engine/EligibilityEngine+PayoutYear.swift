import BenefitsDomain
import CatalogModel

extension EligibilityEngine {
    /// The year a payout is for: part of the order's key, and the year of the fund it is paid from. A one-off
    /// award (a fixed amount or a tier) is for the year the record that gives it became payable under the
    /// document: the recognition counted by the clause (the earliest that counts, or the one giving the
    /// highest tier) or else the project accepted, and not before the document took effect. So the same
    /// recognition screened as of a later day, or by a later campaign, is the same payout, never a second one.
    /// A clause over a year's figures is for the as-of year.
    static func payoutYear(of clause: Clause, _ context: Context) -> Int {
        max(Self.recordYear(of: clause, context) ?? context.asOf.year, context.period.lowerBound.year)
    }

    /// The year of the record a one-off award is for; nil for a clause over a year's figures.
    private static func recordYear(of clause: Clause, _ context: Context) -> Int? {
        switch clause.formula {
        case .tiers(let recognition, let tiers, _), .tierShare(let recognition, let tiers, _):
            let condition = Self.tierCondition(of: clause, recognition: recognition)
            let records = context.recognitions(
                recognition, levels: condition?.levels, newInPeriod: condition?.newInPeriod ?? false,
                first: condition?.first ?? false)
            func tier(_ record: EnterpriseProfile.RecognitionRecord) -> Fen {
                tiers.filter { $0.level == record.level }.map(\.amountFen).max() ?? -1
            }
            let giving = records.max { lhs, rhs in
                tier(lhs) != tier(rhs) ? tier(lhs) < tier(rhs) : lhs.recognizedOn > rhs.recognizedOn
            }
            return giving?.recognizedOn.year
        case .fixed:
            for condition in clause.conditions {
                switch condition.kind {
                case .recognition(let id, let levels, let newInPeriod, let first):
                    let earliest = context.recognitions(id, levels: levels, newInPeriod: newInPeriod, first: first)
                        .map(\.recognizedOn).min()
                    if let earliest { return earliest.year }
                default: continue
                }
            }
            for condition in clause.conditions {
                guard case .project(let kind, let minimum, let completedInPeriod) = condition.kind else { continue }
                let accepted = (context.profile.projects[kind] ?? []).compactMap { project -> CalendarDate? in
                    guard project.investmentFen >= minimum ?? 0, let day = project.completedOn, day <= context.asOf,
                        !completedInPeriod || context.period.contains(day)
                    else { return nil }
                    return day
                }
                if let earliest = accepted.min() { return earliest.year }
            }
            return nil
        default:
            return nil
        }
    }
}
