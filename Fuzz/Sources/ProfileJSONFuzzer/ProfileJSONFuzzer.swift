import BenefitsDomain
import CatalogModel
import EligibilityEngine
import Foundation
import MeshMessages
import SwiftProtobuf

/// What a county posts to the gateway's HTTP face: arbitrary bytes as a ScreenRequest in the protobuf JSON
/// mapping, then (when it decodes) the profile checks and a screening by the real engine against the real
/// catalog. Nothing may crash: no overflow in an amount, no index out of range, whatever the facts say.
let engine: EligibilityEngine = {
    let directory = ProcessInfo.processInfo.environment["CATALOG_DATA"] ?? "../Services/Catalog/Data"
    return EligibilityEngine(catalog: try! CatalogLoader.load(directory: directory))
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    guard let request = try? Jiaxing_Benefits_V1_ScreenRequest(jsonUTF8Bytes: bytes) else { return 0 }
    guard let profile = try? EnterpriseProfile(message: request.profile, vocabulary: engine.catalog.vocabulary) else {
        return 0
    }
    let asOf =
        CalendarDate(year: Int(request.asOf.year), month: Int(request.asOf.month), day: Int(request.asOf.day))
        ?? CalendarDate("2023-09-01")!
    _ = engine.screen(profile, asOf: asOf, includeIneligible: true)
    return 0
}
