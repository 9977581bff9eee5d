import MeshRPC

/// The methods of `jiaxing.benefits.v1.NotificationService` (see notification.proto).
public enum NotificationMethods {
    public static let service = "jiaxing.benefits.v1.NotificationService"
    public static let registerWebhook = MethodDescriptor(service: service, method: "RegisterWebhook")
    public static let listInbox = MethodDescriptor(service: service, method: "ListInbox")
    public static let watchInbox = MethodDescriptor(service: service, method: "WatchInbox")
    public static let listDeliveries = MethodDescriptor(service: service, method: "ListDeliveries")
    public static let replay = MethodDescriptor(service: service, method: "Replay")
}
