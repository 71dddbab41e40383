import Foundation
import PostgresClient

/// `ota-bench stream`: COPYs generated rows through PostgresClient and reports how
/// much this process's peak memory grew, alone in its process so that nothing
/// else's allocations blur the figure (the COPY memory test runs it).
struct StreamProbe {
    var databaseURL: String
    var rows: Int

    func run() async throws {
        let connection = try await PostgresConnection.connect(databaseURL)
        try await connection.execute("create temporary table landed (id bigint, doc jsonb)")
        let padding = String(repeating: "x", count: 150)
        let before = Self.kilobytes("VmRSS:")
        let copied = try await connection.copyIn("copy landed (id, doc) from stdin") { writer in
            var line = [UInt8]()
            for id in 0..<rows {
                line.removeAll(keepingCapacity: true)
                line.append(contentsOf: #"{"id": \#(id), "pad": "\#(padding)", "esc": "a\\b"}"#.utf8)
                try writer.appendField(String(id))
                try line.withUnsafeBytes { try writer.appendField(bytes: $0) }
                try writer.endRow()
            }
        }
        let peak = Self.kilobytes("VmHWM:")
        let count = try await connection.query("select count(*) from landed")[0].decode(Int.self, at: 0)
        await connection.close()
        print("copied=\(copied) counted=\(count) growth_kb=\(peak - before)")
    }

    static func kilobytes(_ field: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix(field) {
            return Int(line.dropFirst(field.count).split(whereSeparator: \.isWhitespace).first ?? "") ?? 0
        }
        return 0
    }
}
