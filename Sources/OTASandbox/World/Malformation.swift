/// What is wrong with a malformed record.
public enum MalformationKind: String, Sendable, CaseIterable {
    case wrongType = "wrong_type"
    case missingKey = "missing_key"
    case negativeAllotment = "negative_allotment"
    case impossibleDate = "impossible_date"
    case invalidUTF8 = "invalid_utf8"
    case nulInString = "nul_in_string"
}

/// Where a record is served.
public enum RecordSurface: String, Sendable, CaseIterable {
    case bookings
    case availability
    case rates
    case inventory
}

/// Decides which records are malformed. A pure function of the seed, the surface
/// and the record's key, so a record is broken the same way on every request.
enum Malformation {
    static func kinds(for surface: RecordSurface) -> [MalformationKind] {
        switch surface {
        case .availability, .inventory: return MalformationKind.allCases
        case .bookings, .rates: return MalformationKind.allCases.filter { $0 != .negativeAllotment }
        }
    }

    static func decide(seed: UInt64, rate: Double, surface: RecordSurface, key: [UInt64]) -> MalformationKind? {
        guard rate > 0 else { return nil }
        let tag = UInt64(RecordSurface.allCases.firstIndex(of: surface)!)
        guard StableHash.unit(seed, 90, tag, StableHash.combine(key)) < rate else { return nil }
        let kinds = kinds(for: surface)
        return kinds[Int(StableHash.combine([seed, 91, tag] + key) % UInt64(kinds.count))]
    }

    /// "YYYY-02-30": a date no calendar has, in the year of `day`.
    static func impossibleDate(near day: Int) -> String {
        "\(CivilCalendar.civil(days: day).year)-02-30"
    }

    static let invalidUTF8Bytes: [UInt8] = [0xC3, 0x28]

    static func describe(_ kind: MalformationKind, surface: RecordSurface) -> String {
        switch (surface, kind) {
        case (.bookings, .wrongType): return "status is a string, not 1/0"
        case (.bookings, .missingKey): return "roomStay.from is missing"
        case (.bookings, .impossibleDate): return "roomStay.to is February 30th"
        case (.bookings, .invalidUTF8): return "clientInfo.lastName holds invalid UTF-8 (C3 28)"
        case (.bookings, .nulInString): return "clientInfo.remarks contains \\u0000"
        case (.availability, .wrongType): return "allot is a string"
        case (.availability, .missingKey): return "allot is missing"
        case (.availability, .negativeAllotment): return "allot is negative"
        case (.availability, .impossibleDate): return "date is February 30th"
        case (.availability, .invalidUTF8): return "date holds invalid UTF-8 (C3 28)"
        case (.availability, .nulInString): return "date contains \\u0000"
        case (.rates, .wrongType): return "pricing[].price is a string"
        case (.rates, .missingKey): return "pricing is missing"
        case (.rates, .impossibleDate): return "date is February 30th"
        case (.rates, .invalidUTF8): return "date holds invalid UTF-8 (C3 28)"
        case (.rates, .nulInString): return "date contains \\u0000"
        case (.inventory, .wrongType): return "price is a string"
        case (.inventory, .missingKey): return "available is missing"
        case (.inventory, .negativeAllotment): return "available is negative"
        case (.inventory, .impossibleDate): return "stay_date is February 30th"
        case (.inventory, .invalidUTF8): return "room_code holds invalid UTF-8 (C3 28)"
        case (.inventory, .nulInString): return "rate_plan_code contains \\u0000"
        case (_, .negativeAllotment): return "negative allotment"
        }
    }
}
