/// Proleptic Gregorian dates as day numbers since 1970-01-01, without Foundation's
/// formatters: the feed formats hundreds of thousands of dates a second.
enum CivilCalendar {
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civil(days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Appends "YYYY-MM-DD".
    static func appendDate(days: Int, to out: inout [UInt8]) {
        let (y, m, d) = civil(days: days)
        appendDigits(y, width: 4, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(m, width: 2, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(d, width: 2, to: &out)
    }

    /// Appends "YYYY-MM-DDTHH:MM:SSZ" for seconds since the epoch.
    static func appendTimestamp(seconds: Int64, to out: inout [UInt8]) {
        let s = Int(seconds)
        let dayNumber = s >= 0 ? s / 86400 : (s - 86399) / 86400
        let rest = s - dayNumber * 86400
        appendDate(days: dayNumber, to: &out)
        out.append(UInt8(ascii: "T"))
        appendDigits(rest / 3600, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(rest / 60 % 60, width: 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(rest % 60, width: 2, to: &out)
        out.append(UInt8(ascii: "Z"))
    }

    static func dateString(days: Int) -> String {
        var out: [UInt8] = []
        appendDate(days: days, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func timestampString(seconds: Int64) -> String {
        var out: [UInt8] = []
        appendTimestamp(seconds: seconds, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func appendDigits(_ value: Int, width: Int, to out: inout [UInt8]) {
        var digits = [UInt8](repeating: UInt8(ascii: "0"), count: width)
        var v = value
        var i = width - 1
        while i >= 0 {
            digits[i] = UInt8(ascii: "0") + UInt8(v % 10)
            v /= 10
            i -= 1
        }
        out.append(contentsOf: digits)
    }

    /// Parses a strict "YYYY-MM-DD"; nil for anything else, including impossible dates.
    static func parseDate<S: StringProtocol>(_ text: S) -> Int? {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let y = number(bytes[0..<4]), let m = number(bytes[5..<7]), let d = number(bytes[8..<10]),
            (1...12).contains(m), d >= 1, d <= daysInMonth(year: y, month: m)
        else { return nil }
        return days(year: y, month: m, day: d)
    }

    /// Parses "YYYY-MM-DDTHH:MM:SS" with an optional fraction and "Z" or "+00:00"
    /// (UTC only), or a bare date meaning its midnight UTC.
    static func parseTimestamp<S: StringProtocol>(_ text: S) -> Int64? {
        let bytes = Array(text.utf8)
        if bytes.count == 10 { return parseDate(text).map { Int64($0) * 86400 } }
        guard bytes.count >= 19, let day = parseDate(String(decoding: bytes[0..<10], as: UTF8.self)),
            bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " "),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            let h = number(bytes[11..<13]), let mi = number(bytes[14..<16]), let s = number(bytes[17..<19]),
            h < 24, mi < 60, s < 60
        else { return nil }
        var rest = bytes[19...]
        if rest.first == UInt8(ascii: ".") {
            rest = rest.dropFirst().drop { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        }
        let zone = String(decoding: rest, as: UTF8.self)
        guard zone == "Z" || zone == "+00:00" || zone.isEmpty else { return nil }
        return Int64(day) * 86400 + Int64(h * 3600 + mi * 60 + s)
    }

    private static func number(_ bytes: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for b in bytes {
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(b - UInt8(ascii: "0"))
        }
        return value
    }
}
