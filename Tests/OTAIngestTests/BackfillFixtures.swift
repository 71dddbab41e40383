import Foundation
import OTAIngest
import PostgresClient
import TestSupport

/// SplitMix64: the same seed writes the same file.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// One generated backfill record: its exact bytes and whether it should land.
struct GeneratedRecord {
    var bytes: [UInt8]
    var valid: Bool
    /// For valid records, the staged row as `concat_ws('|', ...)` prints it.
    var expected: String?
    /// For invalid ones, a word the dead letter's reason must contain.
    var reasonHint: String?
}

/// Writes backfill files of rates and availability with known good and bad records.
enum BackfillFixtures {
    /// What a record can be wrong with.
    enum Defect: CaseIterable {
        case wrongType, missingKey, negative, impossibleDate, invalidUTF8, nulCharacter
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// `count` rate records, each valid one a distinct (rate, date, adults) cell;
    /// every `badEvery`-th record (0: none) carries one defect, in turn.
    static func rates(count: Int, seed: UInt64, badEvery: Int = 0) -> [GeneratedRecord] {
        var random = SeededRandom(seed: seed)
        let start = CivilDate("2025-01-01")!
        var out: [GeneratedRecord] = []
        out.reserveCapacity(count)
        for i in 0..<count {
            let rate = 100 + i % 7
            let date = start.adding(days: (i / 7) % 700).description
            let adults = 1 + (i / (7 * 700)) % 4
            let cents = Int.random(in: 3000...40000, using: &random)
            let price = "\(cents / 100).\(String(format: "%02d", cents % 100))"
            let closeout = Int.random(in: 0...9, using: &random) == 0 ? 1 : 0
            let minStay = Int.random(in: 1...3, using: &random)
            let good =
                #"{"property":"HTL00\#(i % 3)","rate_id":"\#(rate)","room":"R\#(rate % 3)","date":"\#(date)","adults":\#(adults),"children":0,"price":\#(price),"currency":"EUR","closeout":\#(closeout),"min_stay":\#(minStay),"seq":\#(i)}"#
            if badEvery > 0, i % badEvery == badEvery - 1 {
                let defect = Defect.allCases[(i / badEvery) % Defect.allCases.count]
                let (text, hint): ([UInt8], String) =
                    switch defect {
                    case .wrongType:
                        (
                            bytes(
                                good.replacingOccurrences(of: #""adults":\#(adults)"#, with: #""adults":"\#(adults)""#)),
                            "adults must be an integer"
                        )
                    case .missingKey:
                        (bytes(good.replacingOccurrences(of: #""currency":"EUR","#, with: "")), "missing key currency")
                    case .negative:
                        (
                            bytes(good.replacingOccurrences(of: #""children":0"#, with: #""children":-1"#)),
                            "children -1 is below 0"
                        )
                    case .impossibleDate: (bytes(good.replacingOccurrences(of: date, with: "2025-02-30")), "real date")
                    case .invalidUTF8:
                        (Array(good.utf8).map { $0 == UInt8(ascii: "R") ? 0xFF : $0 }, "UTF-8")
                    case .nulCharacter:
                        (bytes(good.replacingOccurrences(of: #""seq":"#, with: #""note":"a\u0000b","seq":"#)), "22P05")
                    }
                out.append(GeneratedRecord(bytes: text, valid: false, expected: nil, reasonHint: hint))
            } else {
                out.append(
                    GeneratedRecord(
                        bytes: bytes(good), valid: true,
                        expected:
                            "HTL00\(i % 3)|\(rate)|R\(rate % 3)|\(date)|\(adults)|0|\(price)|EUR|\(closeout == 1 ? "t" : "f")|\(minStay)",
                        reasonHint: nil))
            }
        }
        return out
    }

    /// Availability records, each valid one a distinct room x night, with defects like `rates`.
    static func availability(count: Int, seed: UInt64, badEvery: Int) -> [GeneratedRecord] {
        var random = SeededRandom(seed: seed)
        let start = CivilDate("2025-03-01")!
        var out: [GeneratedRecord] = []
        for i in 0..<count {
            let room = "RM\(i % 5)"
            let date = start.adding(days: i / 5).description
            let allot = Int.random(in: 0...9, using: &random)
            let stop = Int.random(in: 0...5, using: &random) == 0 ? 1 : 0
            let maxStay = Int.random(in: 0...14, using: &random)
            // Pretty-printed, with brackets, commas and escapes inside strings to trip a naive splitter.
            let good = """
                {
                  "property": "HTL001", "room": "\(room)", "date": "\(date)", "allot": \(allot), "stopsell": \(stop),
                  "minstay": 1, "maxstay": \(maxStay), "checkin": 1, "checkout": \(i % 4 == 0 ? 0 : 1),
                  "note": "a ] , [ { \\" } text", "tags": [[1, 2], {"k": "]"}]
                }
                """
            if i % badEvery == badEvery - 1 {
                let defect = Defect.allCases[(i / badEvery) % Defect.allCases.count]
                let (text, hint): ([UInt8], String) =
                    switch defect {
                    case .wrongType:
                        (
                            bytes(
                                good.replacingOccurrences(of: #""allot": \#(allot)"#, with: #""allot": "\#(allot)""#)),
                            "allot must be an integer"
                        )
                    case .missingKey:
                        (bytes(good.replacingOccurrences(of: #""room": "\#(room)", "#, with: "")), "missing key room")
                    case .negative:
                        (
                            bytes(
                                good.replacingOccurrences(of: #""allot": \#(allot)"#, with: #""allot": -\#(allot + 1)"#)
                            ), "below 0"
                        )
                    case .impossibleDate: (bytes(good.replacingOccurrences(of: date, with: "2025-13-01")), "real date")
                    case .invalidUTF8: (Array(good.utf8).map { $0 == UInt8(ascii: "x") ? 0xC3 : $0 }, "UTF-8")
                    case .nulCharacter: (bytes(good.replacingOccurrences(of: "text", with: #"te\u0000xt"#)), "22P05")
                    }
                out.append(GeneratedRecord(bytes: text, valid: false, expected: nil, reasonHint: hint))
            } else {
                let expected =
                    "HTL001|\(room)|\(date)|\(allot)|\(stop == 1 ? "t" : "f")|1|\(maxStay)|f|\(i % 4 == 0 ? "t" : "f")"
                out.append(GeneratedRecord(bytes: bytes(good), valid: true, expected: expected, reasonHint: nil))
            }
        }
        return out
    }

    static func ndjson(_ records: [GeneratedRecord]) -> [UInt8] {
        var out: [UInt8] = []
        for (i, record) in records.enumerated() {
            out += record.bytes
            // Windows line ends and blank lines are tolerated.
            out += i % 10 == 3 ? [0x0D, 0x0A, 0x0A] : [0x0A]
        }
        return out
    }

    static func jsonArray(_ records: [GeneratedRecord]) -> [UInt8] {
        var out: [UInt8] = Array("  [\n".utf8)
        for (i, record) in records.enumerated() {
            if i > 0 { out += Array(" ,\n\t".utf8) }
            out += record.bytes
        }
        out += Array("\n]\n".utf8)
        return out
    }

    /// A fresh temporary directory, removed by the caller.
    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("backfill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    static func write(_ bytes: [UInt8], to url: URL) throws {
        try Data(bytes).write(to: url)
    }
}

/// A migrated database and queries the backfill tests share.
struct BackfillDatabase {
    let db: TestDatabase

    static func with(_ body: (BackfillDatabase) async throws -> Void) async throws {
        try await TestDatabase.with { db in
            let connection = try await db.connect()
            _ = try await Migrator().migrate(connection)
            await connection.close()
            try await body(BackfillDatabase(db: db))
        }
    }

    func strings(_ sql: String, _ parameters: [(any PostgresBindable)?] = []) async throws -> [String] {
        try await db.strings(sql, parameters)
    }

    func int(_ sql: String, _ parameters: [(any PostgresBindable)?] = []) async throws -> Int {
        try await db.int(sql, parameters)
    }

    func execute(_ sql: String) async throws {
        let connection = try await db.connect()
        try await connection.executeScript(sql)
        await connection.close()
    }

    /// Raw bytes of every dead letter, hex, for comparing with the generated bad records.
    func deadLetterRaws() async throws -> [String] {
        try await strings("select encode(raw, 'hex') from ops.dead_letters")
    }

    func load(_ arguments: [String], standardInput: URL? = nil) async throws -> CommandLineRunner.Outcome {
        try await CommandLineRunner.run(
            ["load"] + arguments + ["--database-url", db.url], standardInput: standardInput)
    }
}

extension Array where Element == UInt8 {
    var hex: String { map { String(format: "%02x", $0) }.joined() }
}
