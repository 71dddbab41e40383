import Foundation

/// A PostgreSQL cluster of a test's own, for tests that shut the server down or
/// crash it: the shared server the other suites use must never go away under them.
///
/// Configured like the throwaway cluster (`fsync=off`, `synchronous_commit=off`),
/// so what survives an immediate shutdown here is what survives it there. As root
/// the server runs as `postgres` (initdb refuses root), in a directory it owns.
public final class ScratchCluster: Sendable {
    public let port: Int
    let directory: URL
    let bin: URL
    /// Extra `-c name=value` server settings (e.g. `shared_preload_libraries=citus`).
    let settings: [String]

    /// The `postgres` database of the cluster's superuser, over TCP on loopback.
    public var url: String { "host=127.0.0.1 port=\(port) dbname=postgres user=postgres connect_timeout=5" }

    private init(port: Int, directory: URL, bin: URL, settings: [String]) {
        self.port = port
        self.directory = directory
        self.bin = bin
        self.settings = settings
    }

    /// Creates and starts a cluster on a free port, with `settings` (`name=value`) on top.
    public static func start(settings: [String] = []) async throws -> ScratchCluster {
        guard
            let bin = try FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql").sorted().last.map({
                URL(fileURLWithPath: "/usr/lib/postgresql/\($0)/bin")
            })
        else { throw ScratchClusterError(message: "no PostgreSQL server under /usr/lib/postgresql") }
        let directory = URL(fileURLWithPath: "/tmp/ota-scratch-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if getuid() == 0 {
            try await run("chown", ["postgres:postgres", directory.path], in: URL(fileURLWithPath: "/usr/bin"))
        }
        let cluster = ScratchCluster(
            port: try LoopbackPort.freeForServer(), directory: directory, bin: bin, settings: settings)
        try await cluster.asOwner(
            "initdb", ["-D", cluster.dataPath, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"])
        try await cluster.startServer()
        return cluster
    }

    var dataPath: String { directory.appendingPathComponent("data").path }

    /// The server's log (`pg_ctl -l`): what it said about every statement that failed.
    public var logFile: URL { directory.appendingPathComponent("log") }

    /// Starts the server and waits until it accepts connections.
    public func startServer() async throws {
        let options =
            "-p \(port) -c listen_addresses=127.0.0.1 -k \(directory.path) -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            + settings.map { " -c \($0)" }.joined()
        try await asOwner(
            "pg_ctl",
            ["-D", dataPath, "-o", options, "-l", directory.appendingPathComponent("log").path, "-w", "start"])
    }

    /// `pg_ctl stop -m immediate`: the server quits at once, without a checkpoint, as
    /// in a crash; whatever WAL it had not written yet is gone.
    public func stopImmediately() async throws {
        try await asOwner("pg_ctl", ["-D", dataPath, "-m", "immediate", "-w", "stop"])
    }

    /// `pg_ctl stop -m fast`: sessions are ended and a checkpoint written, as in an orderly restart.
    public func stopFast() async throws {
        try await asOwner("pg_ctl", ["-D", dataPath, "-m", "fast", "-w", "stop"])
    }

    /// Stops the server and removes its files.
    public func destroy() async {
        try? await asOwner("pg_ctl", ["-D", dataPath, "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(at: directory)
    }

    private func asOwner(_ tool: String, _ arguments: [String]) async throws {
        let path = bin.appendingPathComponent(tool).path
        if getuid() == 0 {
            try await Self.run(
                "runuser", ["-u", "postgres", "--", path] + arguments, in: URL(fileURLWithPath: "/usr/sbin"))
        } else {
            try await Self.run(tool, arguments, in: bin)
        }
    }

    /// Runs a tool to its end on a thread of its own. Not `Process`: the server that
    /// `pg_ctl start` leaves running keeps Foundation from ever seeing `runuser` exit.
    private static func run(_ tool: String, _ arguments: [String], in directory: URL) async throws {
        let path = directory.appendingPathComponent(tool).path
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("scratch-\(UUID().uuidString).log")
        let status = await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            Thread.detachNewThread {
                continuation.resume(returning: spawnAndWait(path, arguments, output: log.path))
            }
        }
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(at: log)
        guard status == 0 else {
            throw ScratchClusterError(
                message: "\(tool) \(arguments.joined(separator: " ")) exited \(status): \(output)")
        }
    }

    private static func spawnAndWait(_ path: String, _ arguments: [String], output: String) -> Int32 {
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var pid: pid_t = 0
        guard posix_spawn(&pid, path, &actions, nil, argv, environ) == 0 else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        // WIFEXITED / WEXITSTATUS, which Swift does not import as macros.
        return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    }
}

/// A scratch cluster could not be set up.
public struct ScratchClusterError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { "scratch PostgreSQL cluster: \(message)" }
}
