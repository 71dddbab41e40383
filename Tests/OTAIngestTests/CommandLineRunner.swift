import Foundation

/// Runs the built `ota-ingest` (or `ota-sandbox`) binary as a user would: a real
/// process with its own arguments, environment, working directory and exit code.
struct CommandLineRunner {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The directory holding the test runner, where SwiftPM also puts the executables.
    static var binDirectory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }

    static func run(
        _ arguments: [String], executable: String = "ota-ingest", environment: [String: String] = [:],
        workingDirectory: URL? = nil, executableDirectory: URL? = nil
    ) throws -> Outcome {
        let process = Process()
        process.executableURL = (executableDirectory ?? binDirectory).appendingPathComponent(executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        // Tests name their database explicitly; an inherited one must not leak in.
        env.removeValue(forKey: "DATABASE_URL")
        env.removeValue(forKey: "OTA_INGEST_CONFIG")
        env.merge(environment) { _, new in new }
        process.environment = env
        if let workingDirectory { process.currentDirectoryURL = workingDirectory }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read before waiting so a chatty child cannot block on a full pipe.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }
}
