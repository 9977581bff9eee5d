import Foundation

/// Working days in mainland China: Monday to Friday, except public holidays, plus the weekend days the State
/// Council moves work to (调休). One file per year (`Services/Catalog/Data/calendar/YYYY.json`), as published
/// each winter; a deadline "within N working days" (限时即享) is counted with it.
public struct WorkingCalendar: Sendable {
    public struct Year: Codable, Sendable {
        public struct Holiday: Codable, Sendable {
            public var name: String
            public var from: CalendarDate
            public var to: CalendarDate

            public init(name: String, from: CalendarDate, to: CalendarDate) {
                self.name = name
                self.from = from
                self.to = to
            }
        }

        public var year: Int
        public var source: String
        public var holidays: [Holiday]
        public var workingWeekends: [CalendarDate]

        public init(year: Int, source: String, holidays: [Holiday], workingWeekends: [CalendarDate]) {
            self.year = year
            self.source = source
            self.holidays = holidays
            self.workingWeekends = workingWeekends
        }
    }

    public struct Problem: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    private let holidays: Set<CalendarDate>
    private let workingWeekends: Set<CalendarDate>
    /// The years the files cover: counting past them is refused rather than guessed.
    public let years: ClosedRange<Int>

    public init(years: [Year]) throws {
        guard let first = years.map(\.year).min(), let last = years.map(\.year).max() else {
            throw Problem(description: "calendar: no year given")
        }
        guard Set(years.map(\.year)).count == last - first + 1, years.count == last - first + 1 else {
            throw Problem(
                description:
                    "calendar: the years must follow each other without a gap, got \(years.map(\.year).sorted())")
        }
        var holidays: Set<CalendarDate> = []
        var working: Set<CalendarDate> = []
        for year in years {
            for holiday in year.holidays {
                guard holiday.from <= holiday.to, holiday.from.year == year.year || holiday.to.year == year.year else {
                    throw Problem(
                        description:
                            "calendar \(year.year): holiday \(holiday.name) from \(holiday.from) to \(holiday.to) is not in its year"
                    )
                }
                for day in holiday.from.dayNumber...holiday.to.dayNumber {
                    holidays.insert(CalendarDate(dayNumber: day))
                }
            }
            for day in year.workingWeekends {
                guard day.weekday >= 6 else {
                    throw Problem(
                        description: "calendar \(year.year): \(day) is listed as a working weekend day but is a weekday"
                    )
                }
                working.insert(day)
            }
        }
        if let clash = holidays.intersection(working).first {
            throw Problem(description: "calendar: \(clash) is both a holiday and a working day")
        }
        self.holidays = holidays
        self.workingWeekends = working
        self.years = first...last
    }

    /// Loads every `YYYY.json` of a folder.
    public static func load(directory: String) throws -> WorkingCalendar {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".json") }
            .sorted()
        let decoder = JSONDecoder()
        return try WorkingCalendar(
            years: files.map { file in
                do {
                    return try decoder.decode(
                        Year.self, from: Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(file)")))
                } catch {
                    throw Problem(description: "calendar \(file): \(error)")
                }
            })
    }

    public func isWorkingDay(_ date: CalendarDate) -> Bool {
        if self.workingWeekends.contains(date) { return true }
        if self.holidays.contains(date) { return false }
        return date.weekday <= 5
    }

    /// The day by which something begun on `start` is due when it may take `days` working days: the
    /// `days`-th working day after `start` (the day of filing does not count). Nil past the years covered.
    public func adding(workingDays days: Int, to start: CalendarDate) -> CalendarDate? {
        precondition(days >= 0, "working days are counted forward")
        var date = start
        var left = days
        while left > 0 {
            date = date.adding(days: 1)
            guard self.years.contains(date.year) else { return nil }
            if self.isWorkingDay(date) { left -= 1 }
        }
        return date
    }

    /// Working days after `start` up to and including `end` (0 when `end` is not after `start`).
    public func workingDays(after start: CalendarDate, through end: CalendarDate) -> Int {
        guard end > start else { return 0 }
        return (start.dayNumber + 1...end.dayNumber).count { self.isWorkingDay(CalendarDate(dayNumber: $0)) }
    }
}

extension CalendarDate {
    /// ISO weekday: 1 Monday … 7 Sunday.
    public var weekday: Int {
        // 1970-01-01 was a Thursday (4).
        let remainder = (self.dayNumber + 3) % 7
        return (remainder < 0 ? remainder + 7 : remainder) + 1
    }
}
