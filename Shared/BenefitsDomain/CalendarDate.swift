import Foundation

/// A calendar date without a time zone: the documents, entitlements and the ledger all count in days.
public struct CalendarDate: Sendable, Hashable, Comparable, Codable, CustomStringConvertible, LosslessStringConvertible
{
    public let year: Int
    public let month: Int
    public let day: Int

    /// Fails for dates that do not exist (2023-02-30) or lie outside 1900...2200.
    public init?(year: Int, month: Int, day: Int) {
        guard (1900...2200).contains(year), (1...12).contains(month), day >= 1,
            day <= Self.daysIn(month: month, year: year)
        else {
            return nil
        }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD`.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    public static func < (lhs: CalendarDate, rhs: CalendarDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    /// `YYYY-MM-DD`, ten ASCII characters: a string that needs no allocation, written in every decision's words.
    public var description: String {
        guard (1000...9999).contains(self.year), (1...12).contains(self.month), (1...31).contains(self.day) else {
            return "\(self.year)-\(self.month < 10 ? "0" : "")\(self.month)-\(self.day < 10 ? "0" : "")\(self.day)"
        }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 10) { buffer in
            let zero = UInt8(ascii: "0")
            buffer[0] = zero + UInt8(self.year / 1000)
            buffer[1] = zero + UInt8(self.year / 100 % 10)
            buffer[2] = zero + UInt8(self.year / 10 % 10)
            buffer[3] = zero + UInt8(self.year % 10)
            buffer[4] = UInt8(ascii: "-")
            buffer[5] = zero + UInt8(self.month / 10)
            buffer[6] = zero + UInt8(self.month % 10)
            buffer[7] = UInt8(ascii: "-")
            buffer[8] = zero + UInt8(self.day / 10)
            buffer[9] = zero + UInt8(self.day % 10)
            return String(decoding: buffer, as: UTF8.self)
        }
    }

    /// Days since 1970-01-01, for arithmetic on dates.
    public var dayNumber: Int {
        // Howard Hinnant's days_from_civil.
        let y = self.month <= 2 ? self.year - 1 : self.year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (self.month + (self.month > 2 ? -3 : 9)) + 2) / 5 + self.day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    public init(dayNumber: Int) {
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        self.year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        self.month = month
        self.day = day
    }

    public func adding(days: Int) -> CalendarDate { CalendarDate(dayNumber: self.dayNumber + days) }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let date = CalendarDate(text) else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath, debugDescription: "'\(text)' is not a date of the form YYYY-MM-DD"))
        }
        self = date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.description)
    }
}

extension CalendarDate {
    /// The day in China (UTC+8, no daylight saving) at `millis` since 1970: the day documents, deadlines and
    /// periods are counted in.
    public static func inChina(atMillis millis: Int64) -> CalendarDate {
        let seconds = millis / 1000 + 8 * 3600
        return CalendarDate(dayNumber: Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400))
    }

    /// Today in China, by the system clock.
    public static func todayInChina() -> CalendarDate {
        Self.inChina(atMillis: Int64(Date().timeIntervalSince1970 * 1000))
    }
}
