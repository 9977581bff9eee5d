import MeshMessages
import MeshRPC
import ServiceKit

extension GatewayHandlers {
    /// The operator's: every replica of every service this gateway balances, each asked for its health now
    /// (within a second, concurrently), with the calls in flight to it. A deployment's operator reaches it
    /// through the published port (`mesh status --host`), where no process table of the machine is at hand.
    public func listReplicas(request: Jiaxing_Benefits_V1_ListReplicasRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_ListReplicasResponse
    {
        let caller = try self.caller(context)
        try self.requireRole([.operator], caller, context)
        var response = Jiaxing_Benefits_V1_ListReplicasResponse()
        response.gateway = MeshRelease.version
        response.replicas = await self.services.status().map { replica in
            var status = Jiaxing_Benefits_V1_ReplicaStatus()
            status.service = replica.service
            status.endpoint = replica.endpoint
            status.serving = replica.serving
            status.detail = replica.detail
            status.outstanding = Int32(replica.outstanding)
            return status
        }
        return response
    }
}
