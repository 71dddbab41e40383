import Foundation

/// Conversions between `Date` and PostgreSQL's ISO timestamp text, at microsecond precision.
///
/// `Date.distantFuture` and `Date.distantPast` stand for `infinity` and `-infinity`, both ways,
/// so an open-ended validity range survives a round trip.
enum PostgresTimestamp {
    /// Seconds from 1970-01-01 to 2001-01-01, `Date`'s reference.
    private static let referenceOffset: Int64 = 978_307_200

    static func format(_ date: Date) -> String {
        if date == .distantFuture { return "infinity" }
        if date == .distantPast { return "-infinity" }
        // Round from the reference date, where `Date` keeps its value, to avoid a second rounding.
        let micros = Int64((date.timeIntervalSinceReferenceDate * 1_000_000).rounded()) + referenceOffset * 1_000_000
        let days = Int(micros.floorDivided(by: 86_400_000_000))
        let microsOfDay = Int(micros - Int64(days) * 86_400_000_000)
        let (year, month, day) = CivilCalendar.civil(fromDays: days)
        var text = DateTimeText.pad(year > 0 ? year : 1 - year, 4) + "-" + DateTimeText.pad(month, 2) + "-"
        text += DateTimeText.pad(day, 2) + " " + DateTimeText.pad(microsOfDay / 3_600_000_000, 2) + ":"
        text += DateTimeText.pad(microsOfDay / 60_000_000 % 60, 2) + ":"
        text += DateTimeText.pad(microsOfDay / 1_000_000 % 60, 2) + "." + DateTimeText.pad(microsOfDay % 1_000_000, 6)
        text += "+00"
        return year > 0 ? text : text + " BC"
    }

    /// Parses `timestamptz`, `timestamp` (taken as UTC) and `date` (midnight UTC) text.
    static func parse(_ text: UnsafeRawBufferPointer) -> Date? {
        guard let parsed = DateTimeText.parse(text) else { return nil }
        if parsed.infinity > 0 { return .distantFuture }
        if parsed.infinity < 0 { return .distantPast }
        let micros =
            (Int64(parsed.days) * 86_400 - Int64(parsed.offsetSeconds ?? 0) - referenceOffset) * 1_000_000
            + Int64(parsed.microsecondOfDay)
        return Date(timeIntervalSinceReferenceDate: Double(micros) / 1_000_000)
    }
}

extension Int64 {
    func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}

/// A hand-written reader for PostgreSQL's ISO date and timestamp output (DateStyle ISO), which
/// `DateFormatter` handles neither quickly nor exactly (microseconds, BC years, short offsets).
enum DateTimeText {
    struct Parsed {
        var days = 0
        var microsecondOfDay = 0
        var offsetSeconds: Int?
        /// +1 for `infinity`, -1 for `-infinity`.
        var infinity = 0
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    static func parse(_ text: UnsafeRawBufferPointer) -> Parsed? {
        if text.elementsEqual("infinity".utf8) { return Parsed(infinity: 1) }
        if text.elementsEqual("-infinity".utf8) { return Parsed(infinity: -1) }
        var reader = Reader(bytes: text)
        guard let year = reader.number(minDigits: 4, maxDigits: 9), reader.skip(UInt8(ascii: "-")),
            let month = reader.number(minDigits: 2, maxDigits: 2), reader.skip(UInt8(ascii: "-")),
            let day = reader.number(minDigits: 2, maxDigits: 2)
        else { return nil }
        var parsed = Parsed()
        if reader.skip(UInt8(ascii: " ")) || reader.skip(UInt8(ascii: "T")) {
            guard let hour = reader.number(minDigits: 2, maxDigits: 2), reader.skip(UInt8(ascii: ":")),
                let minute = reader.number(minDigits: 2, maxDigits: 2), reader.skip(UInt8(ascii: ":")),
                let second = reader.number(minDigits: 2, maxDigits: 2), hour <= 24, minute < 60, second < 61
            else { return nil }
            var micros = 0
            if reader.skip(UInt8(ascii: ".")) {
                var scale = 100_000
                guard let first = reader.digit() else { return nil }
                micros = first * scale
                while let digit = reader.digit() {
                    scale /= 10
                    micros += digit * scale
                }
            }
            parsed.microsecondOfDay = ((hour * 60 + minute) * 60 + second) * 1_000_000 + micros
            if let sign = reader.peek(), sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
                reader.advance()
                guard let hours = reader.number(minDigits: 2, maxDigits: 2) else { return nil }
                var seconds = hours * 3600
                if reader.skip(UInt8(ascii: ":")) {
                    guard let minutes = reader.number(minDigits: 2, maxDigits: 2) else { return nil }
                    seconds += minutes * 60
                    if reader.skip(UInt8(ascii: ":")) {
                        guard let extra = reader.number(minDigits: 2, maxDigits: 2) else { return nil }
                        seconds += extra
                    }
                }
                parsed.offsetSeconds = sign == UInt8(ascii: "-") ? -seconds : seconds
            } else if reader.skip(UInt8(ascii: "Z")) {
                parsed.offsetSeconds = 0
            }
        }
        var astronomicalYear = year
        if reader.skip(UInt8(ascii: " ")) {
            guard reader.skip(UInt8(ascii: "B")), reader.skip(UInt8(ascii: "C")) else { return nil }
            astronomicalYear = 1 - year
        }
        guard reader.atEnd, (1...12).contains(month), day >= 1,
            day <= CivilCalendar.daysIn(month: month, year: astronomicalYear)
        else { return nil }
        parsed.days = CivilCalendar.days(year: astronomicalYear, month: month, day: day)
        return parsed
    }

    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var position = 0

        var atEnd: Bool { position == bytes.count }

        func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func advance() { position += 1 }

        mutating func skip(_ byte: UInt8) -> Bool {
            guard peek() == byte else { return false }
            position += 1
            return true
        }

        mutating func digit() -> Int? {
            guard let byte = peek(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            position += 1
            return Int(byte - UInt8(ascii: "0"))
        }

        mutating func number(minDigits: Int, maxDigits: Int) -> Int? {
            var value = 0
            var count = 0
            while count < maxDigits, let digit = digit() {
                value = value * 10 + digit
                count += 1
            }
            return count >= minDigits ? value : nil
        }
    }
}
