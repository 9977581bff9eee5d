import MeshMessages

extension CalendarDate {
    public var message: Jiaxing_Benefits_V1_Date {
        var date = Jiaxing_Benefits_V1_Date()
        date.year = Int32(self.year)
        date.month = Int32(self.month)
        date.day = Int32(self.day)
        return date
    }

    /// nil for an unset or impossible date.
    public init?(message: Jiaxing_Benefits_V1_Date) {
        self.init(year: Int(message.year), month: Int(message.month), day: Int(message.day))
    }
}
