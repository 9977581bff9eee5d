import BenefitsAPI
import BenefitsDomain
import CatalogModel
import MeshMessages
import MeshRPC

/// The catalog service's methods over the mesh.
public struct CatalogHandlers: CatalogServiceProtocol {
    let store: CatalogStore

    public init(store: CatalogStore) {
        self.store = store
    }

    public func register(into router: inout RPCRouter) {
        self.registerMethods(into: &router)
    }

    public func listDocuments(request: Jiaxing_Benefits_V1_ListDocumentsRequest, context _: ServerContext) async throws
        -> Jiaxing_Benefits_V1_ListDocumentsResponse
    {
        let catalog = self.store.catalog
        let asOf = try Self.date(request.hasAsOf ? request.asOf : nil, field: "as_of")
        var response = Jiaxing_Benefits_V1_ListDocumentsResponse()
        response.revision = catalog.revision
        response.documents = catalog.documents(inForceOn: asOf).map { $0.message(includeClauses: false) }
        return response
    }

    public func getDocument(request: Jiaxing_Benefits_V1_GetDocumentRequest, context _: ServerContext) async throws
        -> Jiaxing_Benefits_V1_PolicyDocument
    {
        guard !request.id.isEmpty else {
            throw RPCError(.invalidArgument, "id: a document id is required, e.g. jzbf-2023-38")
        }
        guard let document = self.store.catalog.document(id: request.id) else {
            throw RPCError(.notFound, "id: no document '\(request.id)' in the catalog")
        }
        return document.message()
    }

    public func getClause(request: Jiaxing_Benefits_V1_GetClauseRequest, context _: ServerContext) async throws
        -> Jiaxing_Benefits_V1_Clause
    {
        guard !request.id.isEmpty else {
            throw RPCError(.invalidArgument, "id: a clause id is required, e.g. jzbf-2023-32/4.1a")
        }
        guard let (clause, document) = self.store.catalog.clause(id: request.id) else {
            throw RPCError(.notFound, "id: no clause '\(request.id)' in the catalog")
        }
        return clause.message(in: document)
    }

    public func searchClauses(request: Jiaxing_Benefits_V1_SearchClausesRequest, context _: ServerContext) async throws
        -> Jiaxing_Benefits_V1_SearchClausesResponse
    {
        let catalog = self.store.catalog
        var query = Catalog.Query(
            asOf: try Self.date(request.hasAsOf ? request.asOf : nil, field: "as_of"),
            department: request.department, keyword: request.keyword, overlapGroup: request.overlapGroup,
            cashOnly: request.cashOnly
        )
        if !request.benefitKind.isEmpty {
            guard let kind = Clause.BenefitKind(rawValue: request.benefitKind) else {
                throw RPCError(
                    .invalidArgument,
                    "benefit_kind: '\(request.benefitKind)' is not one of \(Clause.BenefitKind.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            query.benefitKind = kind
        }
        if !request.beneficiary.isEmpty {
            guard let beneficiary = Clause.Beneficiary(rawValue: request.beneficiary) else {
                throw RPCError(
                    .invalidArgument,
                    "beneficiary: '\(request.beneficiary)' is not one of \(Clause.Beneficiary.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            query.beneficiary = beneficiary
        }
        var response = Jiaxing_Benefits_V1_SearchClausesResponse()
        response.revision = catalog.revision
        response.clauses = catalog.search(query).map { $0.clause.message(in: $0.document) }
        return response
    }

    public func getCatalog(request: Jiaxing_Benefits_V1_GetCatalogRequest, context _: ServerContext) async throws
        -> Jiaxing_Benefits_V1_CatalogSnapshot
    {
        self.store.catalog.snapshot(asOf: try Self.date(request.hasAsOf ? request.asOf : nil, field: "as_of"))
    }

    public func watch(
        request: Jiaxing_Benefits_V1_WatchCatalogRequest, writer: ResponseWriter<Jiaxing_Benefits_V1_CatalogRevision>,
        context _: ServerContext
    ) async throws {
        let revisions = self.store.revisions()
        let current = self.store.catalog
        if current.revision != request.knownRevision { try await writer.write(Self.revision(current)) }
        for await catalog in revisions {
            try await writer.write(Self.revision(catalog))
        }
    }

    static func revision(_ catalog: Catalog) -> Jiaxing_Benefits_V1_CatalogRevision {
        var revision = Jiaxing_Benefits_V1_CatalogRevision()
        revision.revision = catalog.revision
        revision.documentCount = Int32(catalog.documents.count)
        revision.clauseCount = Int32(catalog.clauseCount)
        return revision
    }

    /// A request date: unset is nil; an impossible one is `invalidArgument` naming the field.
    static func date(_ message: Jiaxing_Benefits_V1_Date?, field: String) throws -> CalendarDate? {
        guard let message else { return nil }
        guard let date = CalendarDate(message: message) else {
            throw RPCError(
                .invalidArgument,
                "\(field): \(message.year)-\(message.month)-\(message.day) is not a date (year 1900-2200, month 1-12, a day the month has)"
            )
        }
        return date
    }
}
