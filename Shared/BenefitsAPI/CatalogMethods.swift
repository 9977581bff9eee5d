import MeshRPC

/// The methods of `jiaxing.benefits.v1.CatalogService` (see catalog.proto).
public enum CatalogMethods {
    public static let service = "jiaxing.benefits.v1.CatalogService"
    public static let listDocuments = MethodDescriptor(service: service, method: "ListDocuments")
    public static let getDocument = MethodDescriptor(service: service, method: "GetDocument")
    public static let getClause = MethodDescriptor(service: service, method: "GetClause")
    public static let searchClauses = MethodDescriptor(service: service, method: "SearchClauses")
    public static let getCatalog = MethodDescriptor(service: service, method: "GetCatalog")
    public static let watch = MethodDescriptor(service: service, method: "Watch")
}
