import Hummingbird
import Logging
import NIOCore

/// A request on the HTTP face, with the channel it came on: the caller is whoever presented the client
/// certificate on that TLS connection (for HTTP/2, on the connection the stream belongs to).
public struct GatewayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    /// A batch upload may be large; everything else is refused past `GatewayHTTP.maximumRequestBytes`.
    public var maxUploadSize: Int { GatewayHTTP.maximumBatchBytes }
}
