import Foundation

/// A calendar date without a time zone, as stay dates are ("2026-03-14").
public struct CivilDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Days since 1970-01-01.
    public var dayNumber: Int

    public init(dayNumber: Int) {
        self.dayNumber = dayNumber
    }

    /// Parses `YYYY-MM-DD`, refusing dates that do not exist (2026-02-30).
    public init?(_ text: some StringProtocol) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let year = Self.digits(bytes[0..<4]), let month = Self.digits(bytes[5..<7]),
            let day = Self.digits(bytes[8..<10]),
            (1...12).contains(month), day >= 1, day <= Self.daysIn(month: month, year: year)
        else { return nil }
        dayNumber = Self.days(year: year, month: month, day: day)
    }

    public init(_ date: Date) {
        dayNumber = Int((date.timeIntervalSince1970 / 86400).rounded(.down))
    }

    public func adding(days: Int) -> CivilDate { CivilDate(dayNumber: dayNumber + days) }

    public static func < (a: CivilDate, b: CivilDate) -> Bool { a.dayNumber < b.dayNumber }

    /// `YYYY-MM-DD`, built by hand: String(format:) costs microseconds, and the
    /// loaders print a date for every night they land.
    public var description: String {
        let (y, m, d) = Self.civil(dayNumber)
        var bytes: [UInt8] = [0, 0, 0, 0, UInt8(ascii: "-"), 0, 0, UInt8(ascii: "-"), 0, 0]
        var year = y
        for i in stride(from: 3, through: 0, by: -1) {
            bytes[i] = UInt8(ascii: "0") + UInt8(year % 10)
            year /= 10
        }
        bytes[5] = UInt8(ascii: "0") + UInt8(m / 10)
        bytes[6] = UInt8(ascii: "0") + UInt8(m % 10)
        bytes[8] = UInt8(ascii: "0") + UInt8(d / 10)
        bytes[9] = UInt8(ascii: "0") + UInt8(d % 10)
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func digits(_ slice: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for byte in slice {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days from civil (Howard Hinnant's algorithm, proleptic Gregorian).
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civil(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}

/// Timestamps as the OTAs send them.
public enum Timestamps {
    /// Parses ISO-8601 (`2026-03-14T10:00:00Z`, with fraction or offset) and the
    /// space-separated `2026-03-14 10:00:00` (taken as UTC), refusing impossible values.
    public static func parse(_ text: some StringProtocol) -> Date? {
        let s = String(text)
        guard s.count >= 19 else { return nil }
        let bytes = Array(s.utf8)
        guard let date = CivilDate(s.prefix(10)), bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " "),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            let hour = Int(s.dropFirst(11).prefix(2)), let minute = Int(s.dropFirst(14).prefix(2)),
            let second = Int(s.dropFirst(17).prefix(2)), (0...23).contains(hour), (0...59).contains(minute),
            (0...60).contains(second)
        else { return nil }
        var rest = Substring(s.dropFirst(19))
        var fraction = 0.0
        if rest.hasPrefix(".") {
            let digits = rest.dropFirst().prefix { $0.isNumber }
            guard !digits.isEmpty, let value = Double("0." + digits) else { return nil }
            fraction = value
            rest = rest.dropFirst(1 + digits.count)
        }
        var offset = 0
        if rest == "Z" || rest.isEmpty {
            offset = 0
        } else if let sign = rest.first, sign == "+" || sign == "-", rest.count == 6,
            let hours = Int(rest.dropFirst().prefix(2)), let minutes = Int(rest.suffix(2)),
            rest.dropFirst(3).first == ":"
        {
            offset = (sign == "+" ? 1 : -1) * (hours * 3600 + minutes * 60)
        } else {
            return nil
        }
        let seconds = date.dayNumber * 86400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    /// `2026-03-14T10:00:00.000000Z`: what PostgreSQL reads back exactly.
    public static func format(_ date: Date) -> String {
        let micros = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
        let fraction = micros - seconds * 1_000_000
        let day = CivilDate(dayNumber: Int(seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400))
        let rest = Int(seconds) - day.dayNumber * 86400
        return day.description
            + String(format: "T%02d:%02d:%02d.%06dZ", rest / 3600, rest / 60 % 60, rest % 60, Int(fraction))
    }
}
