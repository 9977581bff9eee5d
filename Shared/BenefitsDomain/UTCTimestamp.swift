/// A moment as ISO 8601 in UTC to the second (`2026-12-06T14:50:15Z`), the form webhooks and the audit log
/// carry. Worked out from the seconds directly: a formatter made for every line was a few percent of a
/// notification replica's time.
public enum UTCTimestamp {
    public static func iso8601(seconds: Int64) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let inDay = Int(seconds - days * 86_400)
        let date = CalendarDate(dayNumber: Int(days))
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let year = String(date.year)
        return String(repeating: "0", count: max(0, 4 - year.count)) + year + "-" + two(date.month) + "-"
            + two(date.day) + "T" + two(inDay / 3600) + ":" + two(inDay / 60 % 60) + ":" + two(inDay % 60) + "Z"
    }
}
