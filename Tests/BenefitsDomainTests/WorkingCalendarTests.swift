import BenefitsDomain
import Foundation
import MeshTestSupport
import Testing

/// Working days for 限时即享 deadlines, on the published 2023 to 2026 holiday schedules.
@Suite("Working calendar")
struct WorkingCalendarTests {
    static let calendar = try! WorkingCalendar.load(
        directory: "\(TestMesh.repositoryRoot)/Services/Catalog/Data/calendar")

    static func date(_ text: String) -> CalendarDate { CalendarDate(text)! }

    @Test("weekdays: 2023-09-01 was a Friday, 2024-02-29 a Thursday, 1970-01-01 a Thursday")
    func weekdays() {
        #expect(Self.date("2023-09-01").weekday == 5)
        #expect(Self.date("2024-02-29").weekday == 4)
        #expect(Self.date("1970-01-01").weekday == 4)
        #expect(Self.date("1969-12-28").weekday == 7)
    }

    @Test("holidays are off, make-up weekend days are on, ordinary weekends are off")
    func days() {
        #expect(!Self.calendar.isWorkingDay(Self.date("2023-10-02")))  // 国庆, a Monday
        #expect(Self.calendar.isWorkingDay(Self.date("2023-10-07")))  // 调休, a Saturday
        #expect(Self.calendar.isWorkingDay(Self.date("2023-10-08")))  // 调休, a Sunday
        #expect(!Self.calendar.isWorkingDay(Self.date("2023-10-14")))  // an ordinary Saturday
        #expect(!Self.calendar.isWorkingDay(Self.date("2024-02-12")))  // 春节, a Monday
        #expect(Self.calendar.isWorkingDay(Self.date("2024-02-04")))  // 调休, a Sunday
        #expect(Self.calendar.isWorkingDay(Self.date("2023-09-28")))  // the Thursday before the long holiday
    }

    @Test("deadlines across the 2023 National Day holiday and the 2024 Spring Festival")
    func deadlines() {
        // Filed on Thursday 2023-09-28: the holiday runs 09-29 to 10-06, then Saturday and Sunday are worked.
        #expect(Self.calendar.adding(workingDays: 1, to: Self.date("2023-09-28")) == Self.date("2023-10-07"))
        #expect(Self.calendar.adding(workingDays: 3, to: Self.date("2023-09-28")) == Self.date("2023-10-09"))
        // Ten working days from Friday 2024-02-02: 02-04 (Sunday, worked), 02-05…02-09 (除夕 02-09 is a
        // working day), holiday 02-10…02-17, 02-18 (Sunday, worked), 02-19, 02-20, 02-21.
        #expect(Self.calendar.adding(workingDays: 10, to: Self.date("2024-02-02")) == Self.date("2024-02-21"))
        #expect(Self.calendar.adding(workingDays: 0, to: Self.date("2024-02-12")) == Self.date("2024-02-12"))
        #expect(Self.calendar.workingDays(after: Self.date("2023-09-28"), through: Self.date("2023-10-09")) == 3)
        #expect(Self.calendar.workingDays(after: Self.date("2023-10-09"), through: Self.date("2023-09-28")) == 0)
        // Past the years the files cover: no guess.
        #expect(Self.calendar.adding(workingDays: 30, to: Self.date("2026-12-20")) == nil)
    }

    @Test("2026: the Spring Festival's make-up Saturdays are worked, the holiday is not")
    func days2026() {
        #expect(Self.calendar.isWorkingDay(Self.date("2026-02-14")))  // 调休, a Saturday
        #expect(!Self.calendar.isWorkingDay(Self.date("2026-02-15")))  // 春节 (腊月二十八), a Sunday
        #expect(!Self.calendar.isWorkingDay(Self.date("2026-02-16")))  // 春节, a Monday
        #expect(!Self.calendar.isWorkingDay(Self.date("2026-02-23")))  // 春节 (正月初七), a Monday
        #expect(Self.calendar.isWorkingDay(Self.date("2026-02-24")))  // the Tuesday after
        #expect(Self.calendar.isWorkingDay(Self.date("2026-02-28")))  // 调休, a Saturday
        #expect(!Self.calendar.isWorkingDay(Self.date("2026-03-01")))  // an ordinary Sunday
        #expect(Self.calendar.isWorkingDay(Self.date("2026-01-04")))  // 元旦 调休, a Sunday
        #expect(!Self.calendar.isWorkingDay(Self.date("2026-01-02")))  // 元旦, a Friday
        #expect(!Self.calendar.isWorkingDay(Self.date("2025-10-08")))  // 国庆节、中秋节 2025, a Wednesday
        #expect(Self.calendar.isWorkingDay(Self.date("2025-10-11")))  // 调休, a Saturday
    }

    @Test("deadlines across the 2026 Spring Festival and from 2024 into 2025")
    func deadlines2026() {
        // Ten working days from Thursday 2026-02-12: 02-13 (1), 02-14 (Saturday, worked: 2), holiday
        // 02-15…02-23, 02-24 (3), 02-25 (4), 02-26 (5), 02-27 (6), 02-28 (Saturday, worked: 7), Sunday 03-01
        // off, 03-02 (8), 03-03 (9), 03-04 (10).
        #expect(Self.calendar.adding(workingDays: 10, to: Self.date("2026-02-12")) == Self.date("2026-03-04"))
        // Filed on Friday 2026-02-13: the next working day is the make-up Saturday.
        #expect(Self.calendar.adding(workingDays: 1, to: Self.date("2026-02-13")) == Self.date("2026-02-14"))
        // After 02-13 through 02-27: 02-14 and 02-24…02-27.
        #expect(Self.calendar.workingDays(after: Self.date("2026-02-13"), through: Self.date("2026-02-27")) == 5)
        // Thirty working days from Friday 2024-12-20, across the year's end: 12-23…12-27 (5), 12-30, 12-31 (7),
        // 元旦 01-01, 01-02, 01-03 (9), the three weeks 01-06…01-24 (24), 01-26 (Sunday, worked: 25), 01-27 (26),
        // 春节 01-28…02-04, 02-05 (27), 02-06 (28), 02-07 (29), 02-08 (Saturday, worked: 30).
        #expect(Self.calendar.adding(workingDays: 30, to: Self.date("2024-12-20")) == Self.date("2025-02-08"))
        // Filed on Tuesday 2025-09-30: 国庆节、中秋节 10-01…10-08, then 10-09, 10-10 and Saturday 10-11 (worked).
        #expect(Self.calendar.adding(workingDays: 3, to: Self.date("2025-09-30")) == Self.date("2025-10-11"))
    }

    @Test("a calendar file with a weekday listed as a working weekend, or a gap between years, is refused")
    func badFiles() {
        let year = WorkingCalendar.Year(
            year: 2023, source: "test", holidays: [], workingWeekends: [Self.date("2023-10-09")])
        #expect(throws: WorkingCalendar.Problem.self) { try WorkingCalendar(years: [year]) }
        let a = WorkingCalendar.Year(year: 2023, source: "test", holidays: [], workingWeekends: [])
        let c = WorkingCalendar.Year(year: 2025, source: "test", holidays: [], workingWeekends: [])
        #expect(throws: WorkingCalendar.Problem.self) { try WorkingCalendar(years: [a, c]) }
        let clash = WorkingCalendar.Year(
            year: 2023, source: "test",
            holidays: [.init(name: "x", from: Self.date("2023-10-07"), to: Self.date("2023-10-07"))],
            workingWeekends: [Self.date("2023-10-07")])
        #expect(throws: WorkingCalendar.Problem.self) { try WorkingCalendar(years: [clash]) }
    }
}

/// Years without a published notice: the statutory holidays, computed, and every deadline counted on one
/// marked provisional.
@Suite("Provisional working calendar")
struct ProvisionalCalendarTests {
    static let directory = "\(TestMesh.repositoryRoot)/Services/Catalog/Data/calendar"

    static func date(_ text: String) -> CalendarDate { CalendarDate(text)! }

    static func days(_ year: WorkingCalendar.Year) -> Set<CalendarDate> {
        Set(year.holidays.flatMap { ($0.from.dayNumber...$0.to.dayNumber).map(CalendarDate.init(dayNumber:)) })
    }

    @Test("2027's statutory holidays: 除夕 to 初三, 清明, 端午 and 中秋 on their lunar and solar days")
    func year2027() throws {
        let year = WorkingCalendar.Year.provisional(2027)
        #expect(year.provisional)
        #expect(year.workingWeekends.isEmpty)
        let expected: [String: (String, String)] = [
            "元旦": ("2027-01-01", "2027-01-01"), "春节": ("2027-02-05", "2027-02-08"), "清明节": ("2027-04-05", "2027-04-05"),
            "劳动节": ("2027-05-01", "2027-05-02"), "端午节": ("2027-06-09", "2027-06-09"),
            "中秋节": ("2027-09-15", "2027-09-15"), "国庆节": ("2027-10-01", "2027-10-03"),
        ]
        #expect(year.holidays.count == expected.count)
        for holiday in year.holidays {
            let (from, to) = try #require(expected[holiday.name], "\(holiday.name)")
            #expect(holiday.from == Self.date(from) && holiday.to == Self.date(to), "\(holiday.name)")
        }
        // Thirteen statutory days in all.
        #expect(Self.days(year).count == 13)
    }

    @Test("every statutory day computed for 2025 and 2026 is a holiday in the published notice")
    func agreesWithPublishedYears() throws {
        let published = try WorkingCalendar.readYears(directory: Self.directory)
        for year in [2025, 2026] {
            let notice = try #require(published.first { $0.year == year })
            let missing = Self.days(.provisional(year)).subtracting(Self.days(notice))
            #expect(missing.isEmpty, "\(year): \(missing.sorted())")
        }
    }

    @Test("a deadline counted into a provisional year says so; one inside the published years does not")
    func deadlines() throws {
        let calendar = try WorkingCalendar.load(directory: Self.directory, provisionalThrough: 2028)
        #expect(calendar.years == 2023...2028)
        #expect(calendar.provisionalYears == [2027, 2028])
        // Saturday 2026-12-05 + 20 working days: 12-07 … 12-31 (19), 元旦 off, Monday 2027-01-04 (20).
        let across = try #require(calendar.deadline(workingDays: 20, from: Self.date("2026-12-05")))
        #expect(across == .init(date: Self.date("2027-01-04"), provisional: true))
        let inside = try #require(calendar.deadline(workingDays: 10, from: Self.date("2026-11-02")))
        #expect(inside == .init(date: Self.date("2026-11-16"), provisional: false))
        // Past the last provisional year: still no guess.
        #expect(calendar.deadline(workingDays: 30, from: Self.date("2028-12-20")) == nil)
        // Without provisional years the published years alone are used, as before.
        #expect(
            try WorkingCalendar.load(directory: Self.directory).adding(workingDays: 20, to: Self.date("2026-12-05"))
                == nil)
    }

    @Test("a file must be one published year named after it")
    func fileNaming() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("calendar-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try #"{"year": 2027, "source": "x", "holidays": [], "workingWeekends": []}"#
            .write(toFile: "\(folder)/2028.json", atomically: true, encoding: .utf8)
        #expect(throws: WorkingCalendar.Problem.self) { try WorkingCalendar.load(directory: folder) }
    }
}
