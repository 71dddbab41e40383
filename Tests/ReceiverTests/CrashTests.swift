import Foundation
import HTTPClient
import OTAIngest
import PostgresClient
import Receiver
import Synchronization
import TestSupport
import Testing

/// Nothing acknowledged is lost: a receiver killed with SIGKILL, a database shut
/// down immediately, a SIGTERM, each under sustained load. Each client logs the ids
/// that got a 200; every one of them must be in staging.
@Suite struct CrashTests {
    /// Clients pushing distinct bookings as fast as they can until told to stop.
    final class Load: Sendable {
        let acknowledged = Mutex<[Int]>([])
        let failures = Mutex<[Int: Int]>([:])
        let stopping = Atomic<Bool>(false)

        func run(_ baseURL: String, clients: Int, firstId: Int) async {
            await withTaskGroup(of: Void.self) { group in
                for client in 0..<clients {
                    group.addTask {
                        let session = HTTPSession()
                        var n = 0
                        while !self.stopping.load(ordering: .relaxed) {
                            let id = firstId + client * 1_000_000 + n
                            n += 1
                            let request = HTTPClientRequest(
                                method: "POST", url: baseURL + "/webhooks/webhotelier",
                                headers: [
                                    "Content-Type": "application/json", "Authorization": ReceiverHarness.basicHeader,
                                ],
                                body: pushJSON(id: id), timeout: .seconds(10))
                            do {
                                let response = try await session.send(request)
                                if response.status == 200 {
                                    self.acknowledged.withLock { $0.append(id) }
                                } else {
                                    self.failures.withLock { $0[response.status, default: 0] += 1 }
                                }
                            } catch {
                                self.failures.withLock { $0[-1, default: 0] += 1 }
                                try? await Task.sleep(for: .milliseconds(5))
                            }
                        }
                    }
                }
            }
        }

        var count: Int { acknowledged.withLock { $0.count } }

        /// Waits until at least `n` requests were acknowledged.
        func waitFor(_ n: Int) async {
            while count < n { try? await Task.sleep(for: .milliseconds(10)) }
        }
    }

    static func stored(_ url: String) async throws -> Set<Int> {
        let connection = try await PostgresConnection.connect(url)
        let ids = try await connection.query("select confirmation_id::bigint from staging.reservation_events").map {
            Int(try $0.decode(Int64.self, at: 0))
        }
        await connection.close()
        return Set(ids)
    }

    /// A TOML config for `ota-ingest serve` on `port`; the password stays in the environment.
    static func configFile(port: Int) throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID().uuidString).toml")
        try """
        [sources.webhotelier]
        kind = "webhotelier"
        base_url = "http://127.0.0.1:9"
        credentials_env_prefix = "WH_"

        [serve]
        port = \(port)
        basic_username = "\(ReceiverHarness.basic.username)"
        basic_password_env = "PUSH_PASSWORD"
        """.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    static func startServe(port: Int, databaseURL: String) async throws -> ChildProcess {
        let config = try configFile(port: port)
        let child = try ChildProcess(
            ["serve", "--config", config.path, "--database-url", databaseURL],
            environment: ["PUSH_PASSWORD": ReceiverHarness.basic.password, "WH_HTL001": "wh:unused"])
        let session = HTTPSession()
        while true {
            if let answer = try? await session.send(HTTPClientRequest(url: "http://127.0.0.1:\(port)/healthz")),
                answer.status == 200
            {
                return child
            }
            guard child.isRunning else {
                let outcome = try await child.wait()
                Issue.record("serve exited \(outcome.status): \(outcome.stderr)")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test func sigkillUnderLoadLosesNothingThatWasAcknowledged() async throws {
        let trials = Torture.trials(short: 1, full: 12)
        var violations = 0
        try await TestDatabase.with { db in
            let connection = try await db.connect()
            _ = try await Migrator().migrate(connection)
            await connection.close()
            for trial in 0..<trials {
                let port = try LoopbackPort.freeForServer()
                let serve = try await Self.startServe(port: port, databaseURL: db.url)
                let load = Load()
                let clients = Task {
                    await load.run("http://127.0.0.1:\(port)", clients: 8, firstId: 1 + trial * 100_000)
                }
                await load.waitFor(Int.random(in: 50...400))
                serve.kill()
                _ = try await serve.wait()
                load.stopping.store(true, ordering: .relaxed)
                await clients.value
                let acknowledged = load.acknowledged.withLock { Set($0) }
                let lost = acknowledged.subtracting(try await Self.stored(db.url))
                #expect(lost.isEmpty, "trial \(trial): acknowledged, then lost: \(lost.count)")
                violations += lost.count
            }
        }
        Torture.record(
            "SIGKILL of serve under load (8 clients)", trials: trials, violations: violations,
            note: "every request answered 200 is in staging")
    }

    @Test func anImmediateDatabaseShutdownUnderLoadLosesNothingThatWasAcknowledged() async throws {
        let cluster = try await ScratchCluster.start()
        do {
            let connection = try await PostgresConnection.connect(cluster.url)
            _ = try await Migrator().migrate(connection)
            await connection.close()
            let (config, environment) = ReceiverHarness.configForLoad()
            let receiver = try ReceiverServer(
                config: config, databaseURL: cluster.url, secrets: SecretResolver(environment: environment),
                logLines: ReceiverHarness.warningsOnly)
            let port = try await receiver.start()
            let load = Load()
            let clients = Task { await load.run("http://127.0.0.1:\(port)", clients: 8, firstId: 1) }
            await load.waitFor(200)
            try await cluster.stopImmediately()
            let during = load.count
            try await cluster.startServer()
            // The receiver reconnects on its own and acknowledges again.
            await load.waitFor(during + 200)
            load.stopping.store(true, ordering: .relaxed)
            await clients.value
            try await receiver.shutdown()
            let acknowledged = load.acknowledged.withLock { Set($0) }
            let lost = acknowledged.subtracting(try await Self.stored(cluster.url))
            #expect(lost.isEmpty, "acknowledged, then lost: \(lost.count)")
            Torture.record(
                "PostgreSQL shut down immediately under receiver load", trials: 1, violations: lost.count,
                note: "every 200 is in staging after the restart; the receiver reconnected by itself")
        } catch {
            await cluster.destroy()
            throw error
        }
        await cluster.destroy()
    }

    @Test func sigtermUnderLoadAnswersWhatIsInFlightAndExitsZero() async throws {
        try await TestDatabase.with { db in
            let connection = try await db.connect()
            _ = try await Migrator().migrate(connection)
            await connection.close()
            let port = try LoopbackPort.freeForServer()
            let serve = try await Self.startServe(port: port, databaseURL: db.url)
            let load = Load()
            let clients = Task { await load.run("http://127.0.0.1:\(port)", clients: 8, firstId: 1) }
            await load.waitFor(300)
            kill(serve.pid, SIGTERM)
            let outcome = try await serve.wait()
            load.stopping.store(true, ordering: .relaxed)
            await clients.value
            #expect(outcome.status == 0, "\(outcome.stderr)")
            let acknowledged = load.acknowledged.withLock { Set($0) }
            let lost = acknowledged.subtracting(try await Self.stored(db.url))
            #expect(lost.isEmpty)
            // A graceful stop answers every request it took: none got a 5xx.
            let failures = load.failures.withLock { $0 }
            let answered5xx = failures.filter { $0.key >= 500 }.values.reduce(0, +)
            #expect(answered5xx == 0, "\(failures)")
            Torture.record(
                "SIGTERM of serve under load", trials: 1,
                violations: lost.count + answered5xx + (outcome.status == 0 ? 0 : 1),
                note: "exit 0, no 5xx, every 200 stored")
        }
    }
}

extension ReceiverHarness {
    /// A receiver configuration without a sandbox: PUSH with Basic auth only.
    static func configForLoad() -> (IngestConfig, [String: String]) {
        var serve = ServeConfig()
        serve.port = 0
        serve.basicUsername = basic.username
        serve.basicPassword = .environment(variable: "PUSH_PASSWORD")
        // The pushes are for HTL001, so the receiver needs credentials for it (never used: nothing pulls).
        let source = SourceConfig(
            name: "webhotelier", kind: .webhotelier, baseURL: "http://127.0.0.1:9", secrets: .environmentPrefix("WH_"))
        return (
            IngestConfig(sources: [source], serve: serve), ["PUSH_PASSWORD": basic.password, "WH_HTL001": "wh:unused"]
        )
    }
}
