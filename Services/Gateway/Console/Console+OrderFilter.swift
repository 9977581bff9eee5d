import BenefitsAPI
import BenefitsDomain
import Hummingbird
import MeshMessages

extension Console {
    /// What narrows the department's queue and its group decisions: a range of amounts and whether a cap or
    /// 就高不重复 reduced the order. The same filter the queue shows is sent with a group's decision
    /// (`DecideOrders`), so an officer decides exactly the orders the totals were counted from.
    struct OrderFilter: Equatable {
        var minimumFen: Fen = 0
        /// 0: no upper bound.
        var maximumFen: Fen = 0
        var adjustment: Jiaxing_Benefits_V1_OrderAdjustment = .any

        var isActive: Bool { self.minimumFen > 0 || self.maximumFen > 0 || self.adjustment != .any }

        /// The filter as a bulk decision's selection, whose `selects` the gateway decides by.
        var selection: Jiaxing_Benefits_V1_DecideOrdersRequest {
            var selection = Jiaxing_Benefits_V1_DecideOrdersRequest()
            self.apply(to: &selection)
            return selection
        }

        /// Reads `min_yuan`, `max_yuan` and `adjustment` (`reduced`, `requested`, anything else: any) from a
        /// query or a form; a bad amount is refused naming the field.
        init(_ value: (String) -> String?) throws(FilterError) {
            func yuan(_ field: String) throws(FilterError) -> Fen {
                guard let text = value(field)?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return 0 }
                guard let fen = Console.fen(fromYuan: text) else {
                    throw FilterError(message: "\(field)：须为元金额，最多两位小数，得到「\(text.prefix(40))」。")
                }
                return fen
            }
            self.minimumFen = try yuan("min_yuan")
            self.maximumFen = try yuan("max_yuan")
            guard self.maximumFen == 0 || self.minimumFen <= self.maximumFen else {
                throw FilterError(message: "min_yuan、max_yuan：下限不得高于上限。")
            }
            switch value("adjustment") {
            case "reduced": self.adjustment = .reduced
            case "requested": self.adjustment = .asRequested
            default: self.adjustment = .any
            }
        }

        init() {}

        /// The filter as the queue's forms carry it.
        var fields: [String: Any] {
            [
                "minYuan": self.minimumFen > 0 ? Money.decimal(self.minimumFen, scale: Money.fenPerYuan) : "",
                "maxYuan": self.maximumFen > 0 ? Money.decimal(self.maximumFen, scale: Money.fenPerYuan) : "",
                "adjustment": self.adjustment == .reduced
                    ? "reduced" : self.adjustment == .asRequested ? "requested" : "",
                "adjustmentReduced": self.adjustment == .reduced,
                "adjustmentRequested": self.adjustment == .asRequested,
                "filterActive": self.isActive,
            ]
        }

        /// Sets the filter on a bulk decision.
        func apply(to request: inout Jiaxing_Benefits_V1_DecideOrdersRequest) {
            request.minimumFen = self.minimumFen
            request.maximumFen = self.maximumFen
            request.adjustment = self.adjustment
        }
    }

    struct FilterError: Error {
        var message: String
    }
}
