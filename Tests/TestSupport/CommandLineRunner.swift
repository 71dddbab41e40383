import Foundation

/// Runs the built `ota-ingest` (or `ota-sandbox`) binary as a user would: a real
/// process with its own arguments, environment, working directory and exit code.
///
/// Waiting never blocks a thread of Swift's cooperative pool (two on these
/// machines): an in-process sandbox the child talks to needs those threads.
/// Output goes to files, so a chatty child never stalls on a full pipe.
public enum CommandLineRunner {
    /// How a child process ended, with everything it printed.
    public struct Outcome: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String

        public init(status: Int32, stdout: String, stderr: String) {
            self.status = status
            self.stdout = stdout
            self.stderr = stderr
        }
    }

    /// The directory holding the test runner, where SwiftPM also puts the executables.
    public static var binDirectory: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }

    public static func run(
        _ arguments: [String], executable: String = "ota-ingest", environment: [String: String] = [:],
        workingDirectory: URL? = nil, executableDirectory: URL? = nil, standardInput: URL? = nil
    ) async throws -> Outcome {
        let child = try ChildProcess(
            arguments, executable: executable, environment: environment, workingDirectory: workingDirectory,
            executableDirectory: executableDirectory, standardInput: standardInput)
        return try await child.wait()
    }
}

/// A started child process whose exit can be awaited.
public final class ChildProcess: @unchecked Sendable {
    private let process = Process()
    private let outURL: URL
    private let errURL: URL
    private let exited: AsyncStream<Int32>

    public init(
        _ arguments: [String], executable: String = "ota-ingest", environment: [String: String] = [:],
        workingDirectory: URL? = nil, executableDirectory: URL? = nil, standardInput: URL? = nil,
        standardOutput: Pipe? = nil
    ) throws {
        process.executableURL = (executableDirectory ?? CommandLineRunner.binDirectory).appendingPathComponent(
            executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        // Tests name their database explicitly; an inherited one must not leak in.
        env.removeValue(forKey: "DATABASE_URL")
        env.removeValue(forKey: "OTA_INGEST_CONFIG")
        env.merge(environment) { _, new in new }
        process.environment = env
        if let workingDirectory { process.currentDirectoryURL = workingDirectory }
        if let standardInput { process.standardInput = try FileHandle(forReadingFrom: standardInput) }
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString)")
        outURL = base.appendingPathExtension("out")
        errURL = base.appendingPathExtension("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        // A pipe, for a test that reads what the child writes while it runs (as a supervisor would).
        if let standardOutput {
            process.standardOutput = standardOutput
        } else {
            process.standardOutput = try FileHandle(forWritingTo: outURL)
        }
        process.standardError = try FileHandle(forWritingTo: errURL)
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        exited = stream
        process.terminationHandler = { process in
            continuation.yield(process.terminationStatus)
            continuation.finish()
        }
        try process.run()
    }

    public var isRunning: Bool { process.isRunning }
    public var pid: Int32 { process.processIdentifier }
    public var exitedNormally: Bool { process.terminationReason == .exit }

    public func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
    }

    /// SIGTERM: the orderly stop a service manager sends.
    public func terminate() {
        Foundation.kill(process.processIdentifier, SIGTERM)
    }

    /// The first line a child writes to a pipe, read on a thread of its own: a blocking read
    /// must not hold one of the cooperative pool's threads (two here).
    public static func firstLine(_ handle: FileHandle) async -> String {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var bytes: [UInt8] = []
                while true {
                    let data = handle.readData(ofLength: 1)
                    guard let byte = data.first, byte != 0x0A else { break }
                    bytes.append(byte)
                }
                continuation.resume(returning: String(decoding: bytes, as: UTF8.self))
            }
        }
    }

    public func wait() async throws -> CommandLineRunner.Outcome {
        var iterator = exited.makeAsyncIterator()
        let status = await iterator.next() ?? process.terminationStatus
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
        }
        return CommandLineRunner.Outcome(
            status: status, stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }
}
