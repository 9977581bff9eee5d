import MeshRPC

/// The methods of `jiaxing.benefits.v1.EligibilityService` (see eligibility.proto).
public enum EligibilityMethods {
    public static let service = "jiaxing.benefits.v1.EligibilityService"
    public static let screen = MethodDescriptor(service: service, method: "Screen")
    public static let screenBatch = MethodDescriptor(service: service, method: "ScreenBatch")
    public static let forecast = MethodDescriptor(service: service, method: "Forecast")
    public static let screenCampaign = MethodDescriptor(service: service, method: "ScreenCampaign")
}
