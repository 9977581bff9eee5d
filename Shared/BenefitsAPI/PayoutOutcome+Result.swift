import MeshMessages
import MeshProtocol
import MeshRPC

extension Jiaxing_Benefits_V1_PayoutOutcome {
    /// One element of a batch's answer (`ProposePayouts`, `DecideOrdersBatch`) as the call alone would have
    /// answered it: the order, or the refusal with its status.
    public var result: Result<Jiaxing_Benefits_V1_PayoutOrder, RPCError> {
        self.hasOrder
            ? .success(self.order) : .failure(RPCError(RPCStatusCode(rawValue: self.code) ?? .unknown, self.message))
    }
}
