import Foundation

extension WorkingCalendar.Year {
    /// The statutory holidays of `year` as 全国年节及纪念日放假办法 (2024 revision, in force from 2025) fixes them,
    /// for a year whose State Council notice is not published yet: 元旦 (1 January), 春节 (除夕 to 正月初三), 清明节
    /// (the solar term's day), 劳动节 (1 and 2 May), 端午节 (五月初五), 中秋节 (八月十五) and 国庆节 (1 to 3 October);
    /// lunar dates from Foundation's Chinese calendar in China's time zone. The notice adds bridging days and
    /// the weekend days worked in exchange (调休), which cannot be computed: a provisional year has none, so a
    /// deadline counted in it is marked provisional until the official file replaces it.
    public static func provisional(_ year: Int) -> WorkingCalendar.Year {
        func day(_ month: Int, _ day: Int) -> CalendarDate { CalendarDate(year: year, month: month, day: day)! }
        let lunar = Self.lunarDays(in: year)
        var holidays = [Holiday(name: "元旦", from: day(1, 1), to: day(1, 1))]
        if let springFestival = lunar.springFestival {
            holidays.append(
                Holiday(name: "春节", from: springFestival.adding(days: -1), to: springFestival.adding(days: 2)))
        }
        holidays.append(Holiday(name: "清明节", from: day(4, Self.qingmingDay(year)), to: day(4, Self.qingmingDay(year))))
        holidays.append(Holiday(name: "劳动节", from: day(5, 1), to: day(5, 2)))
        if let dragonBoat = lunar.dragonBoat { holidays.append(Holiday(name: "端午节", from: dragonBoat, to: dragonBoat)) }
        if let midAutumn = lunar.midAutumn { holidays.append(Holiday(name: "中秋节", from: midAutumn, to: midAutumn)) }
        holidays.append(Holiday(name: "国庆节", from: day(10, 1), to: day(10, 3)))
        return WorkingCalendar.Year(
            year: year, source: "按《全国年节及纪念日放假办法》推算(国务院当年放假安排未发布, 未含调休)", holidays: holidays,
            workingWeekends: [], provisional: true)
    }

    /// The day of April that 清明 falls on (4 or 5), by the solar term's usual formula for 2000–2099.
    static func qingmingDay(_ year: Int) -> Int {
        let y = year % 100
        return Int(Double(y) * 0.2422 + 4.81) - y / 4
    }

    /// 正月初一, 五月初五 and 八月十五 of the lunar year that begins in `year`, as Gregorian dates.
    struct LunarDays {
        var springFestival: CalendarDate?
        var dragonBoat: CalendarDate?
        var midAutumn: CalendarDate?
    }

    static func lunarDays(in year: Int) -> LunarDays {
        let zone = TimeZone(identifier: "Asia/Shanghai")!
        var chinese = Calendar(identifier: .chinese)
        chinese.timeZone = zone
        var gregorian = Calendar(identifier: .gregorian)
        gregorian.timeZone = zone
        var result = LunarDays()
        let first = CalendarDate(year: year, month: 1, day: 1)!
        let last = CalendarDate(year: year, month: 12, day: 31)!
        guard var date = gregorian.date(from: DateComponents(year: year, month: 1, day: 1)) else { return result }
        for day in first.dayNumber...last.dayNumber {
            let lunar = chinese.dateComponents([.month, .day, .isLeapMonth], from: date)
            if lunar.isLeapMonth != true {
                switch (lunar.month, lunar.day) {
                case (1, 1): result.springFestival = CalendarDate(dayNumber: day)
                case (5, 5): result.dragonBoat = CalendarDate(dayNumber: day)
                case (8, 15): result.midAutumn = CalendarDate(dayNumber: day)
                default: break
                }
            }
            date = gregorian.date(byAdding: .day, value: 1, to: date) ?? date
        }
        return result
    }
}
