import Foundation
import PostgresClient

/// Writes deterministic, rate-like NDJSON records (about 200 bytes each) for the COPY benchmark.
///
/// The records hold no backslash, tab or newline inside a line, so psql's `\copy` in text format
/// loads each line verbatim and both loaders land the same documents.
enum RateRecords {
    static let properties = (1...400).map { "H" + String(format: "%04d", $0) }
    static let rooms = ["DBL", "TWN", "SGL", "TRP", "DBL-SEA", "STE", "FAM"]
    static let plans = ["BAR", "BAR-FLEX", "NRF", "BB", "HB", "EARLY-30"]
    static let channels = ["booking.com", "expedia", "direct", "airbnb", ""]
    static let currencies = ["EUR", "EUR", "EUR", "GBP", "USD"]

    /// Writes `count` records to `path`, one JSON object a line, the same bytes for the same seed.
    static func write(count: Int, seed: UInt64, to path: String) throws -> Int {
        guard let file = fopen(path, "w") else {
            throw BenchError("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(file) }
        var random = SplitMix64(seed: seed)
        var chunk = [UInt8]()
        chunk.reserveCapacity(1 << 20)
        var total = 0
        let firstStay = PostgresDate(year: 2025, month: 1, day: 1)!.daysSinceEpoch
        let firstObservation = PostgresDate(year: 2025, month: 3, day: 1)!.daysSinceEpoch * 86_400
        for sequence in 0..<count {
            let stay = PostgresDate(daysSinceEpoch: firstStay + random.below(540))
            let observed = firstObservation + sequence * 7 + random.below(7)
            let observedDay = PostgresDate(daysSinceEpoch: observed / 86_400)
            let second = observed % 86_400
            let cents = 4_500 + random.below(60_000)
            let line = """
                {"property_id":"\(properties[random.below(properties.count)])","room_code":"\(rooms[random.below(rooms.count)])",\
                "rate_plan":"\(plans[random.below(plans.count)])","channel":"\(channels[random.below(channels.count)])",\
                "stay_date":"\(stay)","occupancy":\(1 + random.below(4)),"price":"\(cents / 100).\(pad2(cents % 100))",\
                "currency":"\(currencies[random.below(currencies.count)])","min_stay":\(1 + random.below(3)),\
                "stop_sell":\(random.below(20) == 0),"observed_at":"\(observedDay)T\(pad2(second / 3600)):\(pad2(second / 60 % 60)):\(pad2(second % 60))Z",\
                "seq":\(sequence)}

                """
            chunk.append(contentsOf: line.utf8)
            if chunk.count >= 1 << 20 {
                total += try flush(&chunk, to: file, path: path)
            }
        }
        total += try flush(&chunk, to: file, path: path)
        return total
    }

    private static func flush(_ chunk: inout [UInt8], to file: UnsafeMutablePointer<FILE>, path: String) throws -> Int {
        let written = chunk.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
        guard written == chunk.count else {
            throw BenchError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        chunk.removeAll(keepingCapacity: true)
        return written
    }

    private static func pad2(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}

/// SplitMix64: a tiny, well-mixed generator whose sequence depends only on the seed.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// A number in `0..<bound`; the slight modulo bias does not matter for test data.
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}
