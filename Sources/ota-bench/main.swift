import Foundation

// ota-bench: micro-benchmarks that need a real PostgreSQL (DATABASE_URL).
//   ota-bench copy [--rows N] [--runs N] [--seed N] [--database-url URL]
//   ota-bench stream --rows N --database-url URL     (peak-memory probe for the COPY test)

let usage =
    "usage: ota-bench copy [--rows N] [--runs N] [--seed N] [--database-url URL] | stream --rows N --database-url URL"

func fail(_ message: String, code: Int32) -> Never {
    FileHandle.standardError.write(Data("ota-bench: \(message)\n".utf8))
    exit(code)
}

var arguments = Array(CommandLine.arguments.dropFirst())
if arguments.count == 5, arguments[0] == "stream", arguments[1] == "--rows", let rows = Int(arguments[2]),
    arguments[3] == "--database-url"
{
    do {
        try await StreamProbe(databaseURL: arguments[4], rows: rows).run()
        exit(0)
    } catch {
        fail("\(error)", code: 1)
    }
}
guard arguments.first == "copy" else { fail(usage, code: 2) }
arguments.removeFirst()
var benchmark = CopyBenchmark(
    databaseURL: ProcessInfo.processInfo.environment["DATABASE_URL"] ?? "", rows: 1_000_000, runs: 3, seed: 42)
while !arguments.isEmpty {
    let option = arguments.removeFirst()
    guard let value = arguments.first else { fail("\(option) needs a value; \(usage)", code: 2) }
    arguments.removeFirst()
    switch option {
    case "--rows": benchmark.rows = Int(value) ?? 0
    case "--runs": benchmark.runs = Int(value) ?? 0
    case "--seed": benchmark.seed = UInt64(value) ?? 0
    case "--database-url": benchmark.databaseURL = value
    default: fail("unknown option \(option); \(usage)", code: 2)
    }
}
guard benchmark.rows > 0, benchmark.runs > 0 else { fail("--rows and --runs must be positive integers", code: 2) }
guard !benchmark.databaseURL.isEmpty else {
    fail(
        "DATABASE_URL is not set; fix: run `make bench-copy`, which starts the local server, or pass --database-url",
        code: 2)
}
do {
    try await benchmark.run()
} catch {
    fail("\(error)", code: 1)
}
