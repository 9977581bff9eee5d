import GatewayStore
import Hummingbird
import NIOCore

/// A console request, and the signed-in session once `ConsoleSessionMiddleware` has found it.
public struct ConsoleRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var session: ConsoleSession?
    /// A POST's fields, read (and its CSRF token checked) by the middleware.
    public var form = ConsoleForm()

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.session = nil
    }

    /// Forms are small; the largest is an application with its evidence described, not uploaded.
    public var maxUploadSize: Int { Console.maximumFormBytes }
}
