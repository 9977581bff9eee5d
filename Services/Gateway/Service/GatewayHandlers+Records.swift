import BenefitsAPI
import BenefitsDomain
import CatalogModel
import EligibilityEngine
import Foundation
import GatewayStore
import MeshMessages
import MeshRPC

extension GatewayHandlers {
    /// Versions in one page of `ListPublishedRecords`, at most and when the caller names none.
    static let maximumHistoryPage: Int32 = 1_000
    static let defaultHistoryPage = 200
}

extension GatewayHandlers {
    public func publishRecords(request: Jiaxing_Benefits_V1_PublishRecordsRequest, context: ServerContext) async throws
        -> Jiaxing_Benefits_V1_PublishRecordsResponse
    {
        let caller = try self.caller(context)
        try self.requireRole([.department], caller, context)
        guard let department = caller.department else {
            throw self.refuse(caller, context, "\(caller.description) is not a department of the city")
        }
        guard request.records.count <= GatewayStore.maximumRecordsPerCall else {
            throw RPCError(
                .invalidArgument,
                "records: at most \(GatewayStore.maximumRecordsPerCall) a call, got \(request.records.count)")
        }
        let vocabulary = try await self.vocabulary.vocabulary(from: self.services.catalog, options: caller.options)
        var response = Jiaxing_Benefits_V1_PublishRecordsResponse()
        var accepted: [Jiaxing_Benefits_V1_PublishedRecord] = []
        var seen: Set<String> = []
        for (index, record) in request.records.enumerated() {
            var problem = Self.problem(with: record, department: department, vocabulary: vocabulary)
            if problem == nil, !seen.insert(record.reference).inserted {
                problem = "reference: \(record.reference) appears twice in this call"
            }
            if let problem {
                var refusal = Jiaxing_Benefits_V1_RecordRefusal()
                refusal.index = Int32(index)
                refusal.message = "records[\(index)].\(problem)"
                response.refused.append(refusal)
            } else {
                accepted.append(record)
            }
        }
        let outcomes: [PublicationOutcome]
        do {
            outcomes = try await self.store.publish(accepted, department: department, at: Self.nowMillis())
        } catch let error as GatewayStoreError {
            throw error.rpcError
        }
        for outcome in outcomes {
            switch outcome {
            case .published: response.published += 1
            case .unchanged: response.unchanged += 1
            case .withdrawn: response.withdrawn += 1
            }
        }
        self.audit.record(
            caller: caller.description, method: "PublishRecords", outcome: "published",
            detail: [
                "published": "\(response.published)", "unchanged": "\(response.unchanged)",
                "withdrawn": "\(response.withdrawn)", "refused": "\(response.refused.count)",
            ])
        return response
    }

    public func listPublishedRecords(request: Jiaxing_Benefits_V1_ListPublishedRecordsRequest, context: ServerContext)
        async throws -> Jiaxing_Benefits_V1_ListPublishedRecordsResponse
    {
        let caller = try self.caller(context)
        guard case .success(let code) = CreditCode.validate(request.creditCode) else {
            throw RPCError(.invalidArgument, "credit_code: a valid unified social credit code is required")
        }
        if caller.role == .county {
            _ = try await self.registeredEnterprise(code.value, caller, context)
        }
        guard (0...Self.maximumHistoryPage).contains(request.limit) else {
            throw RPCError(
                .invalidArgument, "limit: 1 to \(Self.maximumHistoryPage) versions a page, got \(request.limit)")
        }
        let limit = request.limit == 0 ? Self.defaultHistoryPage : Int(request.limit)
        let after = try PageToken.position(in: request.pageToken, parts: 4) { parts in
            Int64(parts[0]).flatMap { publishedAt in
                Int32(parts[3]).map {
                    GatewayStore.HistoryPosition(
                        publishedAt: publishedAt, department: parts[1], reference: parts[2], version: $0)
                }
            }
        }
        var response = Jiaxing_Benefits_V1_ListPublishedRecordsResponse()
        response.versions = try await self.store.publishedHistory(
            creditCode: code.value, department: caller.department?.rawValue, after: after, limit: limit)
        if response.versions.count == limit, let last = response.versions.last {
            response.nextPageToken =
                PageToken([
                    "\(last.publishedAtMillis)", last.department, last.record.reference, "\(last.version)",
                ]).encoded
        }
        return response
    }

    /// What is wrong with one published record, naming the field under `records[i]`; nil when it may be
    /// published by `department`.
    static func problem(
        with record: Jiaxing_Benefits_V1_PublishedRecord, department: Department, vocabulary: Vocabulary
    ) -> String? {
        if case .failure(let problem) = CreditCode.validate(record.creditCode) {
            return "credit_code: '\(record.creditCode)' \(problem)"
        }
        let reference = record.reference.trimmingCharacters(in: .whitespaces)
        guard !reference.isEmpty else {
            return "reference: the department's own reference for the record (文号 and row) is required"
        }
        guard record.reference.count <= GatewayStore.maximumReferenceLength else {
            return "reference: at most \(GatewayStore.maximumReferenceLength) characters, got \(record.reference.count)"
        }
        if record.withdrawn { return nil }
        var profile = Jiaxing_Benefits_V1_EnterpriseProfile()
        profile.creditCode = record.creditCode
        profile.county = .nanhu
        let kind: Vocabulary.RecordKind
        let field: String
        switch record.record {
        case .recognition(let recognition):
            kind = .recognition(recognition.recognition)
            field = "recognition"
            profile.recognitions = [recognition]
        case .project(let project):
            guard project.name.count <= Self.maximumProjectNameLength else {
                return "project.name: at most \(Self.maximumProjectNameLength) characters, got \(project.name.count)"
            }
            kind = .project(project.kind)
            field = "project"
            profile.projects = [project]
        case .fact(let fact):
            kind = .fact(fact.fact)
            field = "fact"
            profile.facts = [fact]
        case nil:
            return "record: a recognition, a project or a fact is required"
        }
        do {
            _ = try EnterpriseProfile(message: profile, vocabulary: vocabulary)
        } catch {
            let subfield = error.field.split(separator: ".").dropFirst(2).joined(separator: ".")
            return "\(field)\(subfield.isEmpty ? "" : ".\(subfield)"): \(error.message)"
        }
        guard let attesters = vocabulary.attesters(of: kind), attesters.contains(department) else {
            let holders = (vocabulary.attesters(of: kind) ?? []).map(\.chineseName)
            return
                "\(field): \(department.chineseName) does not attest \(kind.id)"
                + (holders.isEmpty ? " (its county registers it)" : " (\(holders.joined(separator: "、")) does)")
        }
        return nil
    }

    /// Characters of a published project's name.
    static let maximumProjectNameLength = 200

    /// The profile the register's facts give: the county's identity and what it may vouch for, and the
    /// departments' records in force, each naming its source. Payouts are derived from this and nothing else.
    func trustedProfile(_ registered: Jiaxing_Benefits_V1_EnterpriseProfile, _ caller: Caller) async throws
        -> Jiaxing_Benefits_V1_EnterpriseProfile
    {
        let vocabulary = try await self.vocabulary.vocabulary(from: self.services.catalog, options: caller.options)
        let attested = try await self.store.attestedRecords(creditCode: registered.creditCode)
        return TrustedProfile.build(registered: registered, attested: attested, vocabulary: vocabulary)
    }
}
