import Foundation
import PostgresClient

/// A calendar date without a time zone, as stay dates are ("2026-03-14").
public struct CivilDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Days since 1970-01-01.
    public var dayNumber: Int

    public init(dayNumber: Int) {
        self.dayNumber = dayNumber
    }

    /// Parses exactly `YYYY-MM-DD`, refusing dates that do not exist (2026-02-30).
    /// The calendar arithmetic is PostgresClient's, so both sides agree on every day.
    public init?(_ text: some StringProtocol) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let year = Self.digits(bytes[0..<4]), let month = Self.digits(bytes[5..<7]),
            let day = Self.digits(bytes[8..<10]), let date = PostgresDate(year: year, month: month, day: day)
        else { return nil }
        dayNumber = date.daysSinceEpoch
    }

    public init(_ date: Date) {
        dayNumber = PostgresDate(date).daysSinceEpoch
    }

    public func adding(days: Int) -> CivilDate { CivilDate(dayNumber: dayNumber + days) }

    public static func < (a: CivilDate, b: CivilDate) -> Bool { a.dayNumber < b.dayNumber }

    /// `YYYY-MM-DD`, built by hand: String(format:) costs microseconds, and the
    /// loaders print a date for every night they land.
    public var description: String {
        let date = PostgresDate(daysSinceEpoch: dayNumber)
        var bytes: [UInt8] = [0, 0, 0, 0, UInt8(ascii: "-"), 0, 0, UInt8(ascii: "-"), 0, 0]
        var year = date.year
        for i in stride(from: 3, through: 0, by: -1) {
            bytes[i] = UInt8(ascii: "0") + UInt8(year % 10)
            year /= 10
        }
        bytes[5] = UInt8(ascii: "0") + UInt8(date.month / 10)
        bytes[6] = UInt8(ascii: "0") + UInt8(date.month % 10)
        bytes[8] = UInt8(ascii: "0") + UInt8(date.day / 10)
        bytes[9] = UInt8(ascii: "0") + UInt8(date.day % 10)
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
        // Digits by hand, as CivilDate's: String(format:) was 3% of the receiver's CPU, which
        // formats the OTA time of every pushed booking.
        var time: [UInt8] = Array("T00:00:00.000000Z".utf8)
        func put(_ value: Int, at end: Int, digits: Int) {
            var value = value
            for i in stride(from: end, to: end - digits, by: -1) {
                time[i] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
        }
        put(rest / 3600, at: 2, digits: 2)
        put(rest / 60 % 60, at: 5, digits: 2)
        put(rest % 60, at: 8, digits: 2)
        put(Int(fraction), at: 15, digits: 6)
        return day.description + String(decoding: time, as: UTF8.self)
    }
}
