import Foundation
import HTTPClient
import OTAIngest
import PostgresClient
import Synchronization
import TestSupport
import Testing

/// `serve` killed with SIGKILL while channel managers push OpenTravel reservations as
/// fast as they can: every push answered `<Success/>` is in staging.
@Suite struct OpenTravelCrashTests {
    /// Clients pushing distinct reservations (bare XML, Basic) until told to stop; each logs
    /// the ids answered `<Success/>`.
    final class Load: Sendable {
        let succeeded = Mutex<[String]>([])
        let stopping = Atomic<Bool>(false)

        func run(_ baseURL: String, clients: Int, prefix: String) async {
            await withTaskGroup(of: Void.self) { group in
                for client in 0..<clients {
                    group.addTask {
                        let session = HTTPSession()
                        let login = ReceiverHarness.openTravelLogin
                        let basic = "Basic " + Data("\(login.username):\(login.password)".utf8).base64EncodedString()
                        var n = 0
                        while !self.stopping.load(ordering: .relaxed) {
                            let id = "\(prefix)-\(client)-\(n)"
                            n += 1
                            let request = HTTPClientRequest(
                                method: "POST", url: baseURL + "/webhooks/opentravel/cm",
                                headers: ["Content-Type": "text/xml; charset=utf-8", "Authorization": basic],
                                body: Array(OpenTravelPushTests.reservation(id: id).utf8), timeout: .seconds(10))
                            do {
                                let response = try await session.send(request)
                                if OpenTravelPushTests.succeeded(response) {
                                    self.succeeded.withLock { $0.append(id) }
                                }
                            } catch {
                                try? await Task.sleep(for: .milliseconds(5))
                            }
                        }
                    }
                }
            }
        }

        var count: Int { succeeded.withLock { $0.count } }
    }

    static func startServe(port: Int, databaseURL: String) async throws -> ChildProcess {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID().uuidString).toml")
        try """
        [sources.cm]
        kind = "opentravel"
        pull = false
        push_username = "\(ReceiverHarness.openTravelLogin.username)"
        push_password_env = "CM_PASSWORD"
        properties = ["HTL001"]

        [serve]
        port = \(port)
        basic_username = "\(ReceiverHarness.basic.username)"
        basic_password_env = "PUSH_PASSWORD"
        """.write(to: config, atomically: true, encoding: .utf8)
        let child = try ChildProcess(
            ["serve", "--config", config.path, "--database-url", databaseURL],
            environment: [
                "PUSH_PASSWORD": ReceiverHarness.basic.password,
                "CM_PASSWORD": ReceiverHarness.openTravelLogin.password,
            ])
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

    @Test func sigkillOfServeUnderOpenTravelPushLoadLosesNothingAnsweredSuccess() async throws {
        let trials = Torture.trials(short: 1, full: 10)
        var violations = 0
        try await TestDatabase.with { db in
            let connection = try await db.connect()
            _ = try await Migrator().migrate(connection)
            await connection.close()
            for trial in 0..<trials {
                let port = try LoopbackPort.freeForServer()
                let serve = try await Self.startServe(port: port, databaseURL: db.url)
                let load = Load()
                let clients = Task { await load.run("http://127.0.0.1:\(port)", clients: 8, prefix: "T\(trial)") }
                let enough = Int.random(in: 30...200)
                while load.count < enough { try await Task.sleep(for: .milliseconds(10)) }
                serve.kill()
                _ = try await serve.wait()
                load.stopping.store(true, ordering: .relaxed)
                await clients.value
                let succeeded = load.succeeded.withLock { Set($0) }
                let stored = Set(
                    try await db.strings(
                        "select confirmation_id from staging.reservation_events where source = 'cm'"))
                let lost = succeeded.subtracting(stored)
                #expect(lost.isEmpty, "trial \(trial): answered Success, then lost: \(lost.count)")
                #expect(succeeded.count >= enough)
                violations += lost.count
            }
        }
        Torture.record(
            "SIGKILL of serve under OpenTravel push load (8 clients)", trials: trials, violations: violations,
            note: "every push answered <Success/> is in staging")
    }
}
