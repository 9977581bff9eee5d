import BenefitsDomain
import CatalogModel
import EligibilityEngine
import MeshMessages
import MeshProtocol
import MeshRPC

/// Gathers the profiles of a `Forecast` stream into columns, as they come: each is validated and laid out,
/// none kept as a message, so a register of a million costs its columns and no more. Refused profiles are
/// counted and the first few reported; the rest go on.
struct ForecastAccumulator {
    /// Refusals reported by name; the rest are only counted.
    static let reportedRefusals = 20

    let engine: EligibilityEngine
    let maximumProfiles: Int
    private(set) var asOf: CalendarDate?
    private var columns: EnterpriseColumns
    private var seen = 0
    private var refused = 0
    private var refusals: [Jiaxing_Benefits_V1_ScreeningError] = []

    init(engine: EligibilityEngine, maximumProfiles: Int) {
        self.engine = engine
        self.maximumProfiles = maximumProfiles
        self.columns = EnterpriseColumns(vocabulary: engine.catalog.vocabulary)
    }

    mutating func add(_ request: Jiaxing_Benefits_V1_ForecastRequest) throws(RPCError) {
        if self.asOf == nil {
            guard request.hasAsOf else {
                throw RPCError(.invalidArgument, "as_of: the forecast date is required in the first message")
            }
            guard let date = CalendarDate(message: request.asOf) else {
                throw RPCError(
                    .invalidArgument,
                    "as_of: \(request.asOf.year)-\(request.asOf.month)-\(request.asOf.day) is not a date in 1900-2200")
            }
            self.asOf = date
        }
        guard self.seen + request.profiles.count <= self.maximumProfiles else {
            throw RPCError(
                .resourceExhausted, "profiles: at most \(self.maximumProfiles) per forecast; split the register")
        }
        for message in request.profiles {
            defer { self.seen += 1 }
            do {
                self.columns.append(try EnterpriseProfile(message: message, vocabulary: self.engine.catalog.vocabulary))
            } catch {
                self.refused += 1
                if self.refusals.count < Self.reportedRefusals {
                    var refusal = Jiaxing_Benefits_V1_ScreeningError()
                    refusal.code = UInt32(RPCStatusCode.invalidArgument.rawValue)
                    refusal.message = "profiles[\(self.seen)] (\(message.creditCode)): \(error.field): \(error.message)"
                    self.refusals.append(refusal)
                }
            }
        }
    }

    func result() throws(RPCError) -> Jiaxing_Benefits_V1_ForecastResult {
        guard let asOf = self.asOf else {
            throw RPCError(.invalidArgument, "as_of: the forecast date is required in the first message")
        }
        let amounts = self.engine.amounts(self.columns, asOf: asOf)
        var result = Jiaxing_Benefits_V1_ForecastResult()
        result.catalogRevision = self.engine.catalog.revision
        result.asOf = asOf.message
        result.enterprises = Int64(self.columns.count)
        result.eligibleEnterprises = Int64(amounts.eligibleEnterprises)
        result.totalFen = amounts.total
        result.clauses = amounts.byClause.keys.sorted().map { id in
            var clause = Jiaxing_Benefits_V1_ClauseForecast()
            clause.clauseID = id
            clause.documentID = self.engine.catalog.clause(id: id)?.document.id ?? ""
            clause.enterprises = Int64(amounts.enterprisesByClause[id] ?? 0)
            clause.amountFen = amounts.byClause[id] ?? 0
            return clause
        }
        result.refused = Int64(self.refused)
        result.firstRefusals = self.refusals
        return result
    }
}
