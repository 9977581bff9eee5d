import Foundation

/// Working days in mainland China: Monday to Friday, except public holidays, plus the weekend days the State
/// Council moves work to (调休). One file per year (`Services/Catalog/Data/calendar/YYYY.json`), as published
/// each winter; a deadline "within N working days" (限时即享) is counted with it. Years after the last published
/// one are provisional (`Year.provisional(_:)`): the statutory holidays only, and every deadline that counts a
/// day in one says so, so an application is never refused for want of a year's file.
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
        /// Computed from the statutory holidays, not read from the State Council's notice.
        public var provisional: Bool

        public init(
            year: Int, source: String, holidays: [Holiday], workingWeekends: [CalendarDate], provisional: Bool = false
        ) {
            self.year = year
            self.source = source
            self.holidays = holidays
            self.workingWeekends = workingWeekends
            self.provisional = provisional
        }

        enum CodingKeys: String, CodingKey { case year, source, holidays, workingWeekends, provisional }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.year = try container.decode(Int.self, forKey: .year)
            self.source = try container.decode(String.self, forKey: .source)
            self.holidays = try container.decode([Holiday].self, forKey: .holidays)
            self.workingWeekends = try container.decode([CalendarDate].self, forKey: .workingWeekends)
            self.provisional = try container.decodeIfPresent(Bool.self, forKey: .provisional) ?? false
        }
    }

    /// A deadline and whether a provisional year was counted to reach it.
    public struct Deadline: Sendable, Hashable {
        public var date: CalendarDate
        public var provisional: Bool

        public init(date: CalendarDate, provisional: Bool) {
            self.date = date
            self.provisional = provisional
        }
    }

    public struct Problem: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    private let holidays: Set<CalendarDate>
    private let workingWeekends: Set<CalendarDate>
    /// The years covered, published or provisional: counting past them is refused rather than guessed.
    public let years: ClosedRange<Int>
    /// The covered years computed from the statutory holidays.
    public let provisionalYears: Set<Int>
    /// Every covered year as given, for serving the calendar.
    public let yearsGiven: [Year]

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
        self.provisionalYears = Set(years.filter(\.provisional).map(\.year))
        self.yearsGiven = years.sorted { $0.year < $1.year }
    }

    /// Loads every `YYYY.json` of a folder; with `provisionalThrough`, adds a provisional year for each year
    /// after the last file up to it.
    public static func load(directory: String, provisionalThrough: Int? = nil) throws -> WorkingCalendar {
        let published = try Self.readYears(directory: directory)
        guard let provisionalThrough, let last = published.map(\.year).max(), provisionalThrough > last else {
            return try WorkingCalendar(years: published)
        }
        return try WorkingCalendar(years: published + (last + 1...provisionalThrough).map(Year.provisional))
    }

    /// The years of every `YYYY.json` of a folder, as published.
    public static func readYears(directory: String) throws -> [Year] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".json") }
            .sorted()
        let decoder = JSONDecoder()
        return try files.map { file in
            let year: Year
            do {
                year = try decoder.decode(
                    Year.self, from: Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(file)")))
            } catch {
                throw Problem(description: "calendar \(file): \(error)")
            }
            guard file == "\(year.year).json", !year.provisional else {
                throw Problem(description: "calendar \(file): a file is one published year, named YYYY.json after it")
            }
            return year
        }
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

    /// The deadline `days` working days after `start` (as `adding(workingDays:to:)`), and whether it counted a
    /// day of a provisional year. Nil past the years covered.
    public func deadline(workingDays days: Int, from start: CalendarDate) -> Deadline? {
        guard let date = self.adding(workingDays: days, to: start) else { return nil }
        let provisional = (start.year...date.year).contains { self.provisionalYears.contains($0) }
        return Deadline(date: date, provisional: provisional)
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
