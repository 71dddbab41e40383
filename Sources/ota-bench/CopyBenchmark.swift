import Foundation
import PostgresClient

/// Times landing the same NDJSON file into `bench_copy(doc jsonb)` with `psql \copy` and with
/// PostgresClient's `copyIn`, alternating which goes first, and prints both rates and the ratio.
struct CopyBenchmark {
    var databaseURL: String
    var rows: Int
    var runs: Int
    var seed: UInt64

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("ota-bench-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("rates.ndjson").path

        let bytes = try RateRecords.write(count: rows, seed: seed, to: path)
        print(
            "ota-bench copy: \(rows) records, \(bytes / rows) bytes each on average (\(bytes >> 20) MiB NDJSON, seed \(seed)), \(runs) runs each"
        )

        let conn = try await PostgresConnection.connect(databaseURL, applicationName: "ota-bench")
        try await conn.execute("drop table if exists bench_copy")
        try await conn.execute("create table bench_copy (doc jsonb)")
        var psqlTimes: [Duration] = []
        var clientTimes: [Duration] = []
        var checksums: [String: Int64] = [:]
        for run in 1...runs {
            // Alternate the order so neither loader always gets the warmer cache.
            for loader in run.isMultiple(of: 2) ? ["PostgresClient", "psql"] : ["psql", "PostgresClient"] {
                try await conn.execute("truncate bench_copy")
                let start = ContinuousClock.now
                if loader == "psql" { try loadWithPsql(path) } else { try await loadWithClient(path, conn) }
                let elapsed = ContinuousClock.now - start
                let landed = try await conn.query("select count(*) from bench_copy").first!.decode(Int.self, at: 0)
                guard landed == rows else { throw BenchError("\(loader) landed \(landed) of \(rows) records") }
                if run == runs {
                    checksums[loader] = try await conn.query("select sum(hashtext(doc::text)::bigint) from bench_copy")
                        .first!.decode(Int64.self, at: 0)
                }
                if loader == "psql" { psqlTimes.append(elapsed) } else { clientTimes.append(elapsed) }
                print(
                    "run \(run): \(loader.padding(toLength: 14, withPad: " ", startingAt: 0)) \(format(elapsed)) s  \(rate(elapsed)) records/s"
                )
            }
        }
        try await conn.execute("drop table bench_copy")
        await conn.close()
        guard checksums["psql"] == checksums["PostgresClient"] else {
            throw BenchError("the two loaders landed different documents (checksums differ)")
        }

        // Best of runs is the usual micro-benchmark figure; the median shows how noisy the runs were.
        let psqlBest = psqlTimes.min()!
        let clientBest = clientTimes.min()!
        let ratio = seconds(clientBest) / seconds(psqlBest)
        let medianRatio = seconds(median(clientTimes)) / seconds(median(psqlTimes))
        print("best: psql \\copy \(rate(psqlBest)) records/s, PostgresClient copyIn \(rate(clientBest)) records/s")
        print(
            String(
                format: "ratio (PostgresClient time / psql time): best %.2f, median %.2f; target <= 1.20: %@",
                ratio, medianRatio, ratio <= 1.2 ? "met" : "NOT met"))
    }

    private func loadWithPsql(_ path: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", databaseURL, "-c",
            "\\copy bench_copy(doc) from '\(path)'",
        ]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchError("psql \\copy exited with status \(process.terminationStatus)")
        }
    }

    /// Streams the file through copyIn: 1 MiB reads, lines split with memchr, each line one field.
    private func loadWithClient(_ path: String, _ conn: PostgresConnection) async throws {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { throw BenchError("cannot open \(path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        _ = try await conn.copyIn("copy bench_copy (doc) from stdin") { writer in
            let capacity = 1 << 20
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
            defer { buffer.deallocate() }
            var filled = 0
            while true {
                let count = read(descriptor, buffer + filled, capacity - filled)
                guard count >= 0 else { throw BenchError("cannot read \(path): \(String(cString: strerror(errno)))") }
                if count == 0 {
                    if filled > 0 {
                        try writer.appendField(bytes: UnsafeRawBufferPointer(start: buffer, count: filled))
                        try writer.endRow()
                    }
                    return
                }
                filled += count
                var start = 0
                while let newline = memchr(buffer + start, 0x0A, filled - start) {
                    let end = buffer.distance(to: newline)
                    try writer.appendField(bytes: UnsafeRawBufferPointer(start: buffer + start, count: end - start))
                    try writer.endRow()
                    start = end + 1
                }
                guard start > 0 || filled < capacity else { throw BenchError("a line in \(path) is longer than 1 MiB") }
                memmove(buffer, buffer + start, filled - start)
                filled -= start
            }
        }
    }

    private func median(_ times: [Duration]) -> Duration { times.sorted()[times.count / 2] }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    private func format(_ duration: Duration) -> String { String(format: "%6.2f", seconds(duration)) }

    private func rate(_ duration: Duration) -> String { String(format: "%9.0f", Double(rows) / seconds(duration)) }
}

/// A benchmark failure, printed as one line.
struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
