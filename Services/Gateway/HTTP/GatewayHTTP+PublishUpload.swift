import BenefitsAPI
import HTTPTypes
import Hummingbird
import MeshMessages
import MeshProtocol
import MeshRPC
import NIOCore

extension GatewayHTTP {
    /// Records sent in one `PublishRecords` call of an upload: the most the gateway takes in one
    /// (`GatewayStore.maximumRecordsPerCall`; a test holds the two equal).
    public static let recordsPerPublish = 1000

    /// The kinds of body `POST /v1/PublishRecords` takes besides a `PublishRecordsRequest` in JSON.
    enum UploadFormat {
        /// One `PublishedRecord` in the protobuf JSON mapping a line.
        case ndjson
        /// A department's list as CSV (`PublishedRecordCSV`), a header row first.
        case csv

        init?(contentType: String?) {
            let type = contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
            switch type {
            case "application/x-ndjson", "application/jsonl": self = .ndjson
            case "text/csv": self = .csv
            default: return nil
            }
        }
    }

    /// A department's whole list in one upload, NDJSON or CSV: published `recordsPerPublish`
    /// lines at a time through the gateway's `PublishRecords` (the same checks, idempotent by reference), with
    /// an answer streamed as it goes: each refused line with its number and the field, a progress line after
    /// each slice, and the totals at the end. A line that does not parse is answered and the rest go on.
    static func publishUpload(_ request: Request, format: UploadFormat, gateway: MeshClient, options: CallOptions)
        -> Response
    {
        let body = request.body
        let responseBody = ResponseBody { writer in
            var totals = Jiaxing_Benefits_V1_PublishRecordsResponse()
            var refusedLines = 0
            var reader = UploadLines(maximumLineBytes: Self.maximumRequestBytes)
            var csv: PublishedRecordCSV?
            var slice: [(line: Int, record: Jiaxing_Benefits_V1_PublishedRecord)] = []
            var output = ""
            func refuse(_ line: Int, _ code: RPCStatusCode, _ message: String) {
                refusedLines += 1
                output += #"{"line":\#(line),"error":{"code":"\#(code)","message":\#(Self.quoted(message))}}"# + "\n"
            }
            func counts() -> String {
                #"{"lines":\#(reader.lineNumber),"published":\#(totals.published),"unchanged":\#(totals.unchanged),"withdrawn":\#(totals.withdrawn),"refused":\#(refusedLines)}"#
            }
            func publish() async throws {
                if !slice.isEmpty {
                    var call = Jiaxing_Benefits_V1_PublishRecordsRequest()
                    call.records = slice.map(\.record)
                    let answer: Jiaxing_Benefits_V1_PublishRecordsResponse = try await gateway.unary(
                        GatewayMethods.publishRecords, call, options: options)
                    totals.published += answer.published
                    totals.unchanged += answer.unchanged
                    totals.withdrawn += answer.withdrawn
                    for refusal in answer.refused where slice.indices.contains(Int(refusal.index)) {
                        // The gateway names records[i] of the slice; the uploader knows its lines.
                        let line = slice[Int(refusal.index)].line
                        refuse(
                            line, .invalidArgument,
                            refusal.message.replacingOccurrences(
                                of: "records[\(refusal.index)]", with: "line \(line)"))
                    }
                    slice.removeAll(keepingCapacity: true)
                    output += #"{"progress":\#(counts())}"# + "\n"
                }
                if !output.isEmpty {
                    try await writer.write(ByteBuffer(string: output))
                    output = ""
                }
            }
            func take(_ lines: [UploadLines.Line]) async throws {
                for line in lines {
                    switch line {
                    case .tooLong(let number):
                        refuse(
                            number, .invalidArgument,
                            "line \(number): longer than the \(Self.maximumRequestBytes) bytes one record may have")
                    case .text(let number, let text):
                        do {
                            switch format {
                            case .ndjson:
                                slice.append((number, try Jiaxing_Benefits_V1_PublishedRecord(jsonString: text)))
                            case .csv:
                                if let header = csv {
                                    slice.append((number, try header.record(text)))
                                } else {
                                    csv = try PublishedRecordCSV(header: text)
                                }
                            }
                        } catch let problem as PublishedRecordCSV.Problem {
                            refuse(number, .invalidArgument, "line \(number): \(problem.message)")
                        } catch {
                            refuse(
                                number, .invalidArgument,
                                "line \(number): not a PublishedRecord in the protobuf JSON mapping: \(error)")
                        }
                        if slice.count >= Self.recordsPerPublish { try await publish() }
                    }
                }
            }
            var received = 0
            do {
                for try await chunk in body {
                    received += chunk.readableBytes
                    guard received <= Self.maximumBatchBytes else {
                        try await publish()
                        refuse(
                            reader.lineNumber + 1, .resourceExhausted,
                            "body: larger than the \(Self.maximumBatchBytes) bytes an upload may have; lines after \(reader.lineNumber) were not read"
                        )
                        break
                    }
                    try await take(reader.feed(chunk))
                }
                if received <= Self.maximumBatchBytes { try await take(reader.finish()) }
                if format == .csv, csv == nil, reader.lineNumber > 0 || received == 0 {
                    refuse(1, .invalidArgument, "header: a CSV upload starts with a row naming its columns")
                }
                try await publish()
                output += #"{"done":\#(counts())}"# + "\n"
            } catch let error as RPCError {
                // The caller may not publish, or the gateway refused a slice: said on the stream, which stops.
                output +=
                    #"{"error":{"code":"\#(error.code)","message":\#(Self.quoted(error.message))},"done":\#(counts())}"#
                    + "\n"
            }
            try await writer.write(ByteBuffer(string: output))
            try await writer.finish(nil)
        }
        var headers = HTTPFields()
        headers[.contentType] = "application/x-ndjson"
        return Response(status: .ok, headers: headers, body: responseBody)
    }
}
