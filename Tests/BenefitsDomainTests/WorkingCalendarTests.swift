import BenefitsDomain
import Foundation
import MeshTestSupport
import Testing

/// Working days for 限时即享 deadlines, on the published 2023 and 2024 holiday schedules.
@Suite("Working calendar")
struct WorkingCalendarTests {
    static let calendar = try! WorkingCalendar.load(directory: "\(TestMesh.repositoryRoot)/Services/Catalog/Data/calendar")

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
        #expect(!Self.calendar.isWorkingDay(Self.date("2023-10-02")))   // 国庆, a Monday
        #expect(Self.calendar.isWorkingDay(Self.date("2023-10-07")))    // 调休, a Saturday
        #expect(Self.calendar.isWorkingDay(Self.date("2023-10-08")))    // 调休, a Sunday
        #expect(!Self.calendar.isWorkingDay(Self.date("2023-10-14")))   // an ordinary Saturday
        #expect(!Self.calendar.isWorkingDay(Self.date("2024-02-12")))   // 春节, a Monday
        #expect(Self.calendar.isWorkingDay(Self.date("2024-02-04")))    // 调休, a Sunday
        #expect(Self.calendar.isWorkingDay(Self.date("2023-09-28")))    // the Thursday before the long holiday
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
        #expect(Self.calendar.adding(workingDays: 30, to: Self.date("2024-12-20")) == nil)
    }

    @Test("a calendar file with a weekday listed as a working weekend, or a gap between years, is refused")
    func badFiles() {
        let year = WorkingCalendar.Year(year: 2023, source: "test", holidays: [], workingWeekends: [Self.date("2023-10-09")])
        #expect(throws: WorkingCalendar.Problem.self) { try WorkingCalendar(years: [year]) }
        let a = WorkingCalendar.Year(year: 2023, source: "test", holidays: [], workingWeekends: [])
        let c = WorkingCalendar.Year(year: 2025, source: "test", holidays: [], workingWeekends: [])
        #expect(throws: WorkingCalendar.Problem.self) { try WorkingCalendar(years: [a, c]) }
        let clash = WorkingCalendar.Year(year: 2023, source: "test", holidays: [.init(name: "x", from: Self.date("2023-10-07"), to: Self.date("2023-10-07"))], workingWeekends: [Self.date("2023-10-07")])
        #expect(throws: WorkingCalendar.Problem.self) { try WorkingCalendar(years: [clash]) }
    }
}
