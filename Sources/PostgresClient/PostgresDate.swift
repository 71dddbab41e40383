import Foundation

/// A calendar date without a time zone, for `date` columns (proleptic Gregorian, like PostgreSQL).
public struct PostgresDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Astronomical year numbering: 0 is 1 BC, as PostgreSQL's Julian-day arithmetic assumes.
    public let year: Int
    public let month: Int
    public let day: Int

    /// Returns nil for a day that does not exist, e.g. February 30.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), day >= 1, day <= CivilCalendar.daysIn(month: month, year: year) else {
            return nil
        }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses PostgreSQL's ISO output, `2025-03-14` or `0044-03-15 BC`.
    public init?(_ text: String) {
        var text = text
        guard let parsed = text.withUTF8({ DateTimeText.parse(UnsafeRawBufferPointer($0)) }),
            parsed.infinity == 0, parsed.microsecondOfDay == 0, parsed.offsetSeconds == nil
        else { return nil }
        self.init(daysSinceEpoch: parsed.days)
    }

    /// The UTC calendar day of an instant.
    public init(_ date: Date) {
        let seconds = Int((date.timeIntervalSince1970).rounded(.down))
        self.init(daysSinceEpoch: seconds.floorDivided(by: 86_400))
    }

    /// The day `days` after 1970-01-01.
    public init(daysSinceEpoch days: Int) {
        (year, month, day) = CivilCalendar.civil(fromDays: days)
    }

    public var daysSinceEpoch: Int { CivilCalendar.days(year: year, month: month, day: day) }

    /// Midnight UTC at the start of the day.
    public var date: Date { Date(timeIntervalSince1970: TimeInterval(daysSinceEpoch) * 86_400) }

    public var description: String {
        var text = DateTimeText.pad(year > 0 ? year : 1 - year, 4) + "-" + DateTimeText.pad(month, 2) + "-"
        text += DateTimeText.pad(day, 2)
        return year > 0 ? text : text + " BC"
    }

    public static func < (lhs: PostgresDate, rhs: PostgresDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }
}

/// Day arithmetic on the proleptic Gregorian calendar (Howard Hinnant's civil-days algorithms).
enum CivilCalendar {
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

extension Int {
    func floorDivided(by divisor: Int) -> Int {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
