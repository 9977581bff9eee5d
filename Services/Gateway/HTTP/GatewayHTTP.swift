import BenefitsAPI
import BenefitsDomain
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdHTTP2
import Logging
import MeshMessages
import MeshProtocol
import MeshRPC
import MeshTracing
import MeshTransport
import NIOCore
import NIOSSL
import SwiftProtobuf
import Tracing

/// The gateway's HTTP/JSON face (HTTP/1.1 and HTTP/2 over mutual TLS): the same methods as the native face,
/// the JSON being the protobuf JSON mapping of the shared messages (`openapi.json` beside this folder).
///
/// - `POST /v1/{Method}` with a request object → the response object (unary methods);
/// - `POST /v1/ScreenBatch` with NDJSON, one `ScreenRequest` a line → NDJSON results, streamed in order;
/// - `POST /v1/PublishRecords` with NDJSON or CSV (`text/csv`), a department's whole list → NDJSON refusals by
///   line, progress, totals (`publishUpload`);
/// - `POST /v1/WatchInbox` → NDJSON notices as they come (server streaming);
/// - `GET /v1` → the methods; `GET /openapi.json` → this face described in OpenAPI 3.1, for generators;
///   `GET /v1/descriptors` → the .proto files as a FileDescriptorSet, for gRPC tools. Errors are
///   `{"code": …, "message": …}` with the HTTP status of the code.
///
/// Each request is made on the caller's behalf to the gateway's own mesh server, in process, so all faces pass through
/// the same authorization, audit, rate limits and fan-out.
public enum GatewayHTTP {
    /// Largest body of a single-request method.
    public static let maximumRequestBytes = 1 << 20
    /// Largest ScreenBatch upload.
    public static let maximumBatchBytes = 256 << 20
    /// Most requests in one JSON ScreenBatch (an array in, an array out); NDJSON takes any number.
    public static let maximumBatchJSONRequests = 1_000
    /// Largest body of a JSON ScreenBatch.
    public static let maximumBatchJSONBytes = 16 << 20
    /// Longest a call may take when the request names no `timeout-ms` header.
    public static let defaultTimeout = Duration.seconds(30)

    public static func router(gateway: MeshClient) -> Router<GatewayRequestContext> {
        let router = Router(context: GatewayRequestContext.self)
        // Requests counted and timed by route, method and status (hb_requests, http_server_request_duration).
        router.add(middleware: MetricsMiddleware())
        // A span per request, the child of the caller's `traceparent`; the calls it makes are its children.
        router.add(middleware: TracingMiddleware())
        router.get("/v1") { _, _ -> Response in
            let methods = MethodRegistry.entries.filter { $0.method.service == GatewayMethods.service }.map { entry in
                #"{"method":"\#(entry.method.method)","kind":"\#(entry.kind)","path":"/v1/\#(entry.method.method)"}"#
            }
            return Self.json(.ok, "{\"methods\":[\(methods.joined(separator: ","))]}")
        }
        router.get("/openapi.json") { _, _ -> Response in Self.json(.ok, OpenAPIDocument.json) }
        // The .proto files with their imports as one FileDescriptorSet, for gRPC tools given no reflection
        // (`grpcurl -protoset`).
        router.get("/v1/descriptors") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [
                    .contentType: "application/x-protobuf", .contentDisposition: "attachment; filename=mesh.protoset",
                ],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: ProtoDescriptorSet.bytes)))
        }
        router.post("/v1/:method") { request, context -> Response in
            let name = context.parameters.get("method") ?? ""
            guard let entry = MethodRegistry.find("\(GatewayMethods.service)/\(name)") else {
                return Self.error(
                    RPCError(.unimplemented, "method: the gateway has no method '\(name)'; GET /v1 lists them"))
            }
            do {
                let options = try await Self.callOptions(request, context)
                switch entry.kind {
                case .unary:
                    if entry.method == GatewayMethods.publishRecords,
                        let format = UploadFormat(contentType: request.headers[.contentType])
                    {
                        return Self.publishUpload(request, format: format, gateway: gateway, options: options)
                    }
                    let body = try await request.body.collect(upTo: Self.maximumRequestBytes)
                    let text = String(buffer: body)
                    let responses = try await entry.call(gateway, [text.isEmpty ? "{}" : text], options)
                    return Self.json(.ok, responses.first ?? "{}")
                case .bidirectional where entry.method == GatewayMethods.screenBatch:
                    if request.headers[.contentType]?.hasPrefix("application/json") == true {
                        return try await Self.screenBatchJSON(request, gateway: gateway, options: options)
                    }
                    return try await Self.screenBatch(
                        request, gateway: gateway, options: options, logger: context.logger)
                case .serverStreaming where entry.method == GatewayMethods.watchInbox:
                    let body = try await request.body.collect(upTo: Self.maximumRequestBytes)
                    let text = String(buffer: body)
                    return try await Self.watchInbox(
                        text.isEmpty ? "{}" : text, gateway: gateway, options: options, channel: context.channel)
                default:
                    return Self.error(RPCError(.unimplemented, "\(name) is not offered over HTTP"))
                }
            } catch let error as RPCError {
                return Self.error(error)
            } catch is NIOTooManyBytesError {
                var response = Self.error(
                    RPCError(
                        .resourceExhausted,
                        "body: larger than the \(Self.maximumRequestBytes) bytes a \(name) request may have"))
                response.status = .contentTooLarge
                return response
            } catch let error as HTTPError where error.status == .contentTooLarge {
                var response = Self.error(
                    RPCError(
                        .resourceExhausted,
                        "body: larger than the \(Self.maximumRequestBytes) bytes a \(name) request may have"))
                response.status = .contentTooLarge
                return response
            } catch let error as HTTPError {
                return Self.error(RPCError(.invalidArgument, "body: \(error.body ?? "\(error.status)")"))
            } catch let error as SwiftProtobuf.JSONDecodingError {
                return Self.error(
                    RPCError(
                        .invalidArgument,
                        "body: not a \(entry.request.protoMessageName) in the protobuf JSON mapping: \(error)"))
            } catch {
                return Self.error(RPCError.from(error))
            }
        }
        return router
    }

    /// The caller's identity from its certificate, the deadline from `timeout-ms`, and the trace.
    static func callOptions(_ request: Request, _ context: GatewayRequestContext) async throws -> CallOptions {
        // HTTP/1.1: the request's channel is the TLS connection; HTTP/2: a stream whose parent is.
        let found = try? await context.channel.nioSSL_peerCertificate().get()
        let certificate: NIOSSLCertificate?
        if let found {
            certificate = found
        } else {
            certificate = try? await context.channel.parent?.nioSSL_peerCertificate().get()
        }
        guard let certificate else {
            throw RPCError(.unauthenticated, "a client certificate from the mesh CA is required")
        }
        let peer = try PeerIdentity(certificate: certificate)
        guard peer.role != nil, !peer.commonName.isEmpty else {
            throw RPCError(.unauthenticated, "the client certificate names no party")
        }
        var metadata: Metadata = [DelegationInterceptor.header: peer.description]
        // The request's span (TracingMiddleware's, the child of the caller's `traceparent`), written down now:
        // a streamed response's body makes its call after the middleware's scope has ended. Where no tracer
        // runs the middleware (none bootstrapped), the caller's header goes on as it came.
        if let current = InstrumentationContext.current, MeshTracing.traceID(of: current) != nil {
            metadata.addTrace(of: current)
        } else if let traceparent = request.headers[HTTPField.Name(MeshTracing.traceparent)!] {
            metadata.add(MeshTracing.traceparent, traceparent)
        }
        var timeout = Self.defaultTimeout
        if let header = request.headers[HTTPField.Name("timeout-ms")!] {
            guard let millis = Int64(header), (1...3_600_000).contains(millis) else {
                throw RPCError(.invalidArgument, "timeout-ms: milliseconds from 1 to 3600000, got '\(header)'")
            }
            timeout = .milliseconds(millis)
        }
        return CallOptions(timeout: timeout, metadata: metadata)
    }

    /// ScreenBatch's JSON form, for clients generated from openapi.json (which take JSON only): an array of at
    /// most `maximumBatchJSONRequests` ScreenRequests in, their results out as one array, in order. A profile
    /// eligibility refuses is answered in its place with the result's `error`.
    static func screenBatchJSON(_ request: Request, gateway: MeshClient, options: CallOptions) async throws -> Response
    {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.maximumBatchJSONBytes)
        } catch is NIOTooManyBytesError {
            var response = Self.error(
                RPCError(
                    .resourceExhausted,
                    "body: larger than the \(Self.maximumBatchJSONBytes) bytes a JSON ScreenBatch may have; send application/x-ndjson for more"
                ))
            response.status = .contentTooLarge
            return response
        }
        let requests: [Jiaxing_Benefits_V1_ScreenRequest]
        do {
            requests = try Jiaxing_Benefits_V1_ScreenRequest.array(fromJSONString: String(buffer: body))
        } catch {
            throw RPCError(
                .invalidArgument, "body: not a JSON array of ScreenRequest in the protobuf JSON mapping: \(error)")
        }
        guard requests.count <= Self.maximumBatchJSONRequests else {
            throw RPCError(
                .invalidArgument,
                "body: \(requests.count) requests, more than the \(Self.maximumBatchJSONRequests) a JSON ScreenBatch may have; send application/x-ndjson for more"
            )
        }
        let results = try await Self.screened(requests, gateway: gateway, options: options)
        return Self.json(.ok, try Jiaxing_Benefits_V1_ScreeningResult.jsonString(from: results))
    }

    /// One ScreenBatch call on the caller's behalf: the results of `requests`, in order (none for none).
    static func screened(
        _ requests: [Jiaxing_Benefits_V1_ScreenRequest], gateway: MeshClient, options: CallOptions
    ) async throws -> [Jiaxing_Benefits_V1_ScreeningResult] {
        guard !requests.isEmpty else { return [] }
        return try await GatewayClient(gateway).screenBatch(
            options: options,
            requests: { stream in
                for item in requests { try await stream.write(item) }
            },
            responses: { results in
                var out: [Jiaxing_Benefits_V1_ScreeningResult] = []
                for try await result in results { out.append(result) }
                return out
            })
    }

    /// NDJSON in, NDJSON out, in order: each line is screened as it arrives and its result streamed back;
    /// a line that does not parse is answered on its own line with the error and the rest go on.
    static func screenBatch(_ request: Request, gateway: MeshClient, options: CallOptions, logger: Logger) async throws
        -> Response
    {
        let body = request.body
        let responseBody = ResponseBody { writer in
            var reader = UploadLines(maximumLineBytes: Self.maximumRequestBytes)
            var lines: [(number: Int, request: Jiaxing_Benefits_V1_ScreenRequest?, problem: String?)] = []
            func flushLines() async throws {
                guard !lines.isEmpty else { return }
                let batch = lines
                lines.removeAll()
                let valid = batch.compactMap(\.request)
                let results = try await Self.screened(valid, gateway: gateway, options: options)
                var next = 0
                var output = ""
                for line in batch {
                    if let problem = line.problem {
                        output +=
                            #"{"line":\#(line.number),"error":{"code":"invalidArgument","message":\#(Self.quoted(problem))}}"#
                            + "\n"
                    } else if next < results.count {
                        output += #"{"line":\#(line.number),"result":\#(try results[next].jsonString())}"# + "\n"
                        next += 1
                    }
                }
                try await writer.write(ByteBuffer(string: output))
            }
            func take(_ read: [UploadLines.Line]) {
                for line in read {
                    switch line {
                    case .tooLong(let number):
                        lines.append(
                            (
                                number, nil,
                                "line \(number): longer than the \(Self.maximumRequestBytes) bytes one profile may have"
                            ))
                    case .text(let number, let text):
                        do {
                            lines.append((number, try Jiaxing_Benefits_V1_ScreenRequest(jsonString: text), nil))
                        } catch {
                            lines.append(
                                (
                                    number, nil,
                                    "line \(number): not a ScreenRequest in the protobuf JSON mapping: \(error)"
                                ))
                        }
                    }
                }
            }
            var received = 0
            for try await chunk in body {
                received += chunk.readableBytes
                guard received <= Self.maximumBatchBytes else {
                    try await flushLines()
                    let message =
                        "body: larger than the \(Self.maximumBatchBytes) bytes a ScreenBatch upload may have; lines after \(reader.lineNumber) were not read"
                    try await writer.write(
                        ByteBuffer(
                            string:
                                #"{"line":\#(reader.lineNumber + 1),"error":{"code":"resourceExhausted","message":\#(Self.quoted(message))}}"#
                                + "\n"))
                    try await writer.finish(nil)
                    return
                }
                take(reader.feed(chunk))
                // Screen in slices of 256 lines, so results stream back while the upload goes on.
                if lines.count >= 256 { try await flushLines() }
            }
            take(reader.finish())
            try await flushLines()
            try await writer.finish(nil)
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/x-ndjson"
        return Response(status: .ok, headers: headers, body: responseBody)
    }

    /// New notices of the caller's inbox as NDJSON, until the client goes away or the deadline passes. The
    /// status waits for the gateway's answer: 200 once the watch is accepted (its response head), the refusal's
    /// own status otherwise (429 for a caller over its watches), never a 200 followed by a reset.
    static func watchInbox(_ text: String, gateway: MeshClient, options: CallOptions, channel: any Channel)
        async throws -> Response
    {
        let watch = try Jiaxing_Benefits_V1_WatchInboxRequest(jsonString: text)
        let call = WatchCall(watch, gateway: gateway, options: options)
        // Hummingbird does not cancel a handler whose client went away; a quiet watch would hold its slot.
        // Weakly: on a kept-alive HTTP/1.1 connection the callback lives as long as the connection does.
        channel.closeFuture.whenComplete { [weak call] _ in call?.cancel() }
        if case .failure(let error) = await call.answer() { return Self.error(error) }
        let body = ResponseBody { writer in
            do {
                for try await notice in call.notices {
                    try await writer.write(ByteBuffer(string: try notice.jsonString() + "\n"))
                }
            } catch let error as RPCError where error.code == .deadlineExceeded {
                // The watch ran for as long as it was asked to.
            }
            try await writer.finish(nil)
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/x-ndjson"
        return Response(status: .ok, headers: headers, body: body)
    }

    static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func error(_ error: RPCError) -> Response {
        var response = Self.json(
            Self.httpStatus(error.code), #"{"code":"\#(error.code)","message":\#(Self.quoted(error.message))}"#)
        if let retry = error.metadata["retry-after-ms"], let millis = Int(retry) {
            response.headers[.retryAfter] = "\(max(1, (millis + 999) / 1000))"
        }
        return response
    }

    /// The HTTP status of a status code, as Google's API design guide maps them.
    public static func httpStatus(_ code: RPCStatusCode) -> HTTPResponse.Status {
        switch code {
        case .ok: return .ok
        case .cancelled: return .init(code: 499, reasonPhrase: "Client Closed Request")
        case .invalidArgument, .failedPrecondition, .outOfRange: return .badRequest
        case .deadlineExceeded: return .gatewayTimeout
        case .notFound: return .notFound
        case .alreadyExists, .aborted: return .conflict
        case .permissionDenied: return .forbidden
        case .unauthenticated: return .unauthorized
        case .resourceExhausted: return .tooManyRequests
        case .unimplemented: return .notImplemented
        case .unavailable: return .serviceUnavailable
        case .unknown, .internal, .dataLoss: return .internalServerError
        }
    }

    /// `text` as a JSON string literal.
    static func quoted(_ text: String) -> String { JSONText.quoted(text) }
}
