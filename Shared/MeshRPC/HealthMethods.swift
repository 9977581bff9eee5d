/// The methods of `mesh.rpc.v1.Health` (health.proto), which every mesh server answers.
public enum HealthMethods {
    public static let service = "mesh.rpc.v1.Health"
    /// Readiness.
    public static let check = MethodDescriptor(service: service, method: "Check")
    /// Liveness.
    public static let live = MethodDescriptor(service: service, method: "Live")
}
