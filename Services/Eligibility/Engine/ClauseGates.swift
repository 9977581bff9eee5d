import CatalogModel

/// Which clauses an enterprise's records can make anything but plainly ineligible, found from the records it
/// holds rather than by trying every clause: most enterprises hold a handful of recognitions, facts and
/// projects, and the catalog has over a hundred clauses, most of which name one of those records.
///
/// Invariant: a clause left out of `candidates` is one `EligibilityEngine.plainlyIneligible` refuses. Each
/// clause is gated by its first condition that plainly fails without one of a set of records (a recognition,
/// a fact, a project of a kind), a per-item clause by its item condition; a clause without such a condition
/// is always a candidate.
struct ClauseGates: Sendable {
    /// Clause numbers (their place in the engine's `clauses`) screened whatever the enterprise holds.
    let ungated: [Int]
    let byRecognition: [String: [Int]]
    let byFact: [String: [Int]]
    let byProject: [String: [Int]]
    let count: Int

    /// The record an enterprise must hold for a condition not to fail plainly.
    enum Key: Hashable {
        case recognition(String)
        case fact(String)
        case project(String)
    }

    init(_ clauses: [Clause]) {
        var ungated: [Int] = []
        var byRecognition: [String: [Int]] = [:]
        var byFact: [String: [Int]] = [:]
        var byProject: [String: [Int]] = [:]
        for (number, clause) in clauses.enumerated() {
            // A per-item clause is screened on each item's own profile, whose figures (the formula's base) the
            // enterprise's may lack; only its item condition gates it: without such a record it has no items.
            let gating = clause.perItem ? [clause.itemCondition].compactMap { $0 } : clause.conditions
            guard let keys = gating.lazy.compactMap(Self.keys(of:)).first else {
                ungated.append(number)
                continue
            }
            for key in keys {
                switch key {
                case .recognition(let id): byRecognition[id, default: []].append(number)
                case .fact(let id): byFact[id, default: []].append(number)
                case .project(let id): byProject[id, default: []].append(number)
                }
            }
        }
        self.ungated = ungated
        self.byRecognition = byRecognition
        self.byFact = byFact
        self.byProject = byProject
        self.count = clauses.count
    }

    /// The records one of which the condition needs not to fail plainly (`Context.plainlyFails`); nil where
    /// it can hold, or fail narrowly, without any.
    static func keys(of condition: Condition) -> Set<Key>? {
        switch condition.kind {
        case .recognition(let id, _, _, _):
            return [.recognition(id)]
        case .atLeast(let fact, let value, let overrides, _):
            // An override may lower the threshold to nothing for some enterprises: then it gates none.
            guard value > 0, overrides.allSatisfy({ $0.value > 0 }) else { return nil }
            return [.fact(fact)]
        case .below(let fact, _), .flag(let fact):
            return [.fact(fact)]
        case .project(let kind, _, _):
            return [.project(kind)]
        case .anyOf(let alternatives):
            var keys: Set<Key> = []
            for alternative in alternatives {
                guard let more = Self.keys(of: alternative) else { return nil }
                keys.formUnion(more)
            }
            return keys
        case .industry, .county, .exclusion:
            return nil
        }
    }

    /// Marks, by clause number, the clauses the profile's records open.
    func candidates(of profile: EnterpriseProfile) -> [Bool] {
        var marks = [Bool](repeating: false, count: self.count)
        for number in self.ungated { marks[number] = true }
        for id in profile.recognitions.keys {
            for number in self.byRecognition[id] ?? [] { marks[number] = true }
        }
        for id in profile.facts.keys {
            for number in self.byFact[id] ?? [] { marks[number] = true }
        }
        for (kind, records) in profile.projects where !records.isEmpty {
            for number in self.byProject[kind] ?? [] { marks[number] = true }
        }
        return marks
    }
}
