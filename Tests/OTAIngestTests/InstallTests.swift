import Foundation
import HTTPClient
import OTAIngest
import OTASandbox
import PostgresClient
import TestSupport
import Testing
import WarehouseSQL

/// ota-ingest as it is installed: the binary alone in a folder of its own, the
/// warehouse's roles as `setup-roles` creates them, the units and the package.
@Suite("Installed binary")
struct InstallTests {
    /// The built ota-ingest copied alone into an empty folder.
    ///
    /// The copy is stripped as scripts/install.sh strips what it installs: a debug
    /// build's DWARF and the AST lldb reads (.swift_ast) name every source file, module
    /// map and module under .build, by design, and nothing reads them at run time.
    /// What is left is what the binary runs with.
    static func install() async throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("installed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let built = CommandLineRunner.binDirectory.appendingPathComponent("ota-ingest")
        let strip = try await Self.run(
            "/usr/bin/strip",
            [
                "--strip-all", "--remove-section=.swift_ast", "-o", folder.appendingPathComponent("ota-ingest").path,
                built.path,
            ])
        #expect(strip.status == 0, "strip: \(strip.stderr)")
        return folder
    }

    /// A tool of the system, run to its end.
    static func run(_ tool: String, _ arguments: [String], environment: [String: String] = [:]) async throws
        -> CommandLineRunner.Outcome
    {
        let url = URL(fileURLWithPath: tool)
        return try await CommandLineRunner.run(
            arguments, executable: url.lastPathComponent, environment: environment,
            executableDirectory: url.deletingLastPathComponent())
    }

    /// The installed binary, run from its own folder (nothing else is in it).
    static func ingest(_ folder: URL, _ arguments: [String], environment: [String: String] = [:]) async throws
        -> CommandLineRunner.Outcome
    {
        try await CommandLineRunner.run(
            arguments, environment: environment, workingDirectory: folder, executableDirectory: folder)
    }

    /// The test database's URL, logging in as another role (the server trusts local logins).
    static func url(_ url: String, user: String) -> String {
        var components = URLComponents(string: url)!
        components.user = user
        return components.string!
    }

    static func config(sandbox: SandboxServer, servePort: Int) throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("installed-\(UUID().uuidString).toml")
        try """
        [sources.webhotelier]
        kind = "webhotelier"
        base_url = "\(sandbox.baseURL!)"
        credentials_env_prefix = "WH_"
        pending_interval_minutes = 0
        feed_interval_minutes = 600
        stay_window_days = 20
        chunk_days = 10
        requests_per_second = 5000
        burst = 5000

        [sources.acme]
        kind = "cursor"
        base_url = "\(sandbox.baseURL!)/v2"
        token_env = "FEED_TOKEN"
        page_size = 1000
        requests_per_second = 5000
        burst = 5000

        [serve]
        port = \(servePort)
        basic_username = "wh-push"
        basic_password_env = "PUSH_PASSWORD"
        """.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    @Test(
        "the binary alone in an empty folder: migrate as the owner; pull, transform, reconcile, nightly and serve as the daily role; analysts read facts and feeds, never staging"
    )
    func rolesThatWork() async throws {
        let folder = try await Self.install()
        defer { try? FileManager.default.removeItem(at: folder) }
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let owner = "ota_owner_" + suffix
        let login = "ota_etl_" + suffix
        let analyst = "ota_alice_" + suffix

        var world = SandboxConfiguration()
        world.minimumPendingIntervalMinutes = 0
        world.propertyCount = 2
        world.initialBookingsPerProperty = 3
        let sandbox = try SandboxServer(configuration: world)
        _ = try await sandbox.start()
        var environment = ["FEED_TOKEN": "sandbox-token", "PUSH_PASSWORD": "push-secret-1"]
        for account in sandbox.accounts() {
            environment["WH_" + account.code] = "\(account.username):\(account.password)"
        }
        let servePort = try LoopbackPort.freeForServer()
        let config = try Self.config(sandbox: sandbox, servePort: servePort)
        defer { try? FileManager.default.removeItem(at: config) }

        do {
            try await TestDatabase.with { db in
                // A superuser runs what setup-roles prints, once.
                let printed = try await Self.ingest(folder, ["setup-roles", "--owner", owner, "--login", login])
                #expect(printed.status == 0, "\(printed.stderr)")
                let admin = try await db.connect()
                try await admin.executeScript(printed.stdout)
                try await admin.execute("create role \(analyst) login in role ota_analyst")
                await admin.close()
                let asOwner = Self.url(db.url, user: owner)
                let daily = Self.url(db.url, user: login)

                let migrate = try await Self.ingest(folder, ["migrate", "--database-url", asOwner])
                #expect(migrate.status == 0, "migrate as the owner: \(migrate.stderr)")
                #expect(migrate.stdout.contains("applied " + WarehouseSQL.migrations.last!.name))
                #expect(
                    try await db.strings(
                        """
                        select concat_ws(' ', r.rolsuper, pg_has_role(r.oid, n.nspowner, 'MEMBER'))
                        from pg_roles r, pg_namespace n where r.rolname = $1 and n.nspname = 'staging'
                        """, [login]) == ["f f"], "the daily role is neither a superuser nor the owner")

                let common = ["--config", config.path, "--database-url", daily]
                let seeds = WarehouseFixture.repositoryRoot.appendingPathComponent("seeds").path
                for command in [
                    ["seed", "--dir", seeds], ["pull", "reservations"], ["pull", "rates"], ["pull", "inventory"],
                    ["transform"], ["reconcile"], ["nightly"], ["status"],
                    ["export", "pricing_current_rates", "--out", folder.appendingPathComponent("rates.csv").path],
                ] {
                    let outcome = try await Self.ingest(folder, command + common, environment: environment)
                    // 3: dead letters; 4: reconcile without --repair found drift (the nightly repairs it).
                    #expect(
                        [0, 3, 4].contains(outcome.status),
                        "\(command.joined(separator: " ")) as the daily role: \(outcome.status) \(outcome.stderr) \(outcome.stdout)"
                    )
                }
                #expect(try await db.int("select count(*)::int from facts.rates") > 0)
                #expect(
                    try await db.strings("select status from ops.runs where command = 'nightly'") == ["succeeded"])

                // A feed definition the warehouse does not have yet: the daily role's nightly
                // stops at its migrate step and names the command and the role that applies it.
                let superuser = try await db.connect()
                try await superuser.execute(
                    "update ops.feed_definitions set checksum = 'older' where name = '10_pricing_current_rates.sql'")
                await superuser.close()
                let pending = try await Self.ingest(folder, ["nightly"] + common, environment: environment)
                #expect(pending.status == 1)
                let said = pending.stdout + pending.stderr
                #expect(said.contains("feeds/10_pricing_current_rates.sql"), "\(said)")
                #expect(said.contains("fix: run `ota-ingest migrate` as \(owner)"), "\(said)")
                let applied = try await Self.ingest(folder, ["migrate", "--database-url", asOwner])
                #expect(applied.stdout.contains("applied feeds/10_pricing_current_rates.sql"), "\(applied.stderr)")
                let current = try await Self.ingest(folder, ["migrate", "--database-url", daily])
                #expect(current.status == 0, "a current warehouse needs nothing of the daily role: \(current.stderr)")

                try await Self.serveOnePush(folder, common: common, environment: environment, port: servePort, db: db)

                let reader = try await PostgresConnection.connect(Self.url(db.url, user: analyst))
                #expect(try await reader.query("select count(*)::int from facts.rates")[0].decode(Int.self, at: 0) > 0)
                _ = try await reader.query("select count(*) from feeds.pricing_current_rates")
                _ = try await reader.query("select count(*) from dims.properties")
                for table in ["staging.reservation_events", "staging.rate_observations", "ops.dead_letters"] {
                    let refused = await #expect(throws: PostgresError.self) {
                        try await reader.query("select count(*) from \(table)")
                    }
                    #expect(refused?.sqlState == .insufficientPrivilege, "\(table)")
                }
                await reader.close()
            }
        } catch {
            await sandbox.stop()
            try? await Self.dropRoles([owner, login, analyst])
            throw error
        }
        await sandbox.stop()
        try await Self.dropRoles([owner, login, analyst])
    }

    /// `serve` as the daily role: one authenticated push stored, then SIGTERM ends it with 0.
    static func serveOnePush(
        _ folder: URL, common: [String], environment: [String: String], port: Int, db: TestDatabase
    ) async throws {
        let child = try ChildProcess(
            ["serve"] + common, environment: environment, workingDirectory: folder, executableDirectory: folder)
        let session = HTTPSession()
        let base = "http://127.0.0.1:\(port)"
        while (try? await session.send(HTTPClientRequest(url: base + "/healthz")))?.status != 200 {
            guard child.isRunning else {
                let outcome = try await child.wait()
                Issue.record("serve as the daily role exited \(outcome.status): \(outcome.stderr)")
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        let booking =
            #"{"id":918273,"type":"new","data":{"id":918273,"property":"HTL001","status":1,"roomStay":{"from":"2026-05-01","to":"2026-05-03"},"bookInfo":{"book_date":"2026-04-01T10:00:00Z"},"clientInfo":{"remarks":""}}}"#
        let push = try await session.send(
            HTTPClientRequest(
                method: "POST", url: base + "/webhooks/webhotelier",
                headers: [
                    "Content-Type": "application/json",
                    "Authorization": "Basic " + Data("wh-push:push-secret-1".utf8).base64EncodedString(),
                ], body: Array(booking.utf8), timeout: .seconds(10)))
        #expect(push.status == 200)
        #expect(
            try await db.int(
                "select count(*)::int from staging.reservation_events where confirmation_id = '918273'") == 1)
        kill(child.pid, SIGTERM)
        let stopped = try await child.wait()
        #expect(stopped.status == 0, "serve after SIGTERM: \(stopped.stderr)")
    }

    /// Roles are the cluster's: the test's own go when it ends (its database is gone by then).
    static func dropRoles(_ roles: [String]) async throws {
        let admin = try await PostgresConnection.connect(try TestDatabase.adminURL())
        for role in roles { try await admin.execute("drop role if exists \(role)") }
        await admin.close()
    }

    @Test("strings of the installed binary hold no .build path but dependencies' source file names")
    func noBuildPaths() async throws {
        let folder = try await Self.install()
        defer { try? FileManager.default.removeItem(at: folder) }
        let bytes = try Data(contentsOf: folder.appendingPathComponent("ota-ingest"))
        let needle = Data("/.build/".utf8)
        var found: Set<String> = []
        var start = bytes.startIndex
        while let hit = bytes.range(of: needle, in: start..<bytes.endIndex) {
            // The printable run around the hit, as `strings` shows it.
            var lower = hit.lowerBound
            while lower > bytes.startIndex, (0x20..<0x7f).contains(bytes[lower - 1]) { lower -= 1 }
            var upper = hit.upperBound
            while upper < bytes.endIndex, (0x20..<0x7f).contains(bytes[upper]) { upper += 1 }
            found.insert(String(decoding: bytes[lower..<upper], as: UTF8.self))
            start = upper
        }
        // A debug build without prefix maps keeps what dependencies compile in for their
        // diagnostics: #file in Swift 5 packages, __FILE__ in BoringSSL and TOML++. Those name source
        // files and are never opened; `make deb` builds with prefix maps and refuses a
        // binary with any. Anything else (a resource bundle, SQL, a build product) would
        // be something the binary reads at run time.
        let sourceName = #"^/.*/\.build/checkouts/[^ ]+\.(swift|c|cc|cc\.inc|h|hpp|S)$"#
        let other = found.filter { $0.range(of: sourceName, options: .regularExpression) == nil }
        #expect(other.isEmpty, "\(other.sorted().prefix(5))")
    }

    @Test("--version names the release, the commit it was built from and the latest migration it carries")
    func versionSaysWhatItCarries() async throws {
        let folder = try await Self.install()
        defer { try? FileManager.default.removeItem(at: folder) }
        let version = try await Self.ingest(folder, ["--version"])
        #expect(version.status == 0)
        let lines = version.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("ota-ingest ") == true, "\(lines)")
        let head = try await Self.run(
            "/usr/bin/git", ["-C", WarehouseFixture.repositoryRoot.path, "rev-parse", "--short=12", "HEAD"])
        if head.status == 0 {
            #expect(
                lines.contains { $0.hasPrefix("commit " + head.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) }
            )
        }
        let newest = try FileManager.default.contentsOfDirectory(
            atPath: WarehouseFixture.repositoryRoot.appendingPathComponent("sql/migrations").path
        ).filter { $0.hasSuffix(".sql") }.max()!
        #expect(lines.contains("latest migration " + newest), "\(lines)")
    }

    @Test("the SQL compiled into the binary is sql/ byte for byte")
    func embeddedSQLIsTheFiles() throws {
        let root = WarehouseFixture.repositoryRoot.appendingPathComponent("sql")
        let onDisk = FileManager.default.enumerator(atPath: root.path)!.compactMap { $0 as? String }
            .filter { $0.hasSuffix(".sql") }.sorted()
        #expect(WarehouseSQL.allFiles.map(\.path) == onDisk)
        for file in WarehouseSQL.allFiles {
            let bytes = try Data(contentsOf: root.appendingPathComponent(file.path))
            #expect(Array(file.sql.utf8) == Array(bytes), "sql/\(file.path)")
        }
    }

    @Test("setup-roles refuses a role name it could not print safely, and two roles under one name")
    func setupRolesChecksNames() async throws {
        let quote = try await CommandLineRunner.run(["setup-roles", "--owner", "x'; drop table y; --"])
        #expect(quote.status == 2)
        #expect(quote.stderr.contains("--owner"))
        let same = try await CommandLineRunner.run(["setup-roles", "--owner", "ota_a", "--login", "ota_a"])
        #expect(same.status == 2)
        let group = try await CommandLineRunner.run(["setup-roles", "--login", "ota_ingest"])
        #expect(group.status == 2)
    }
}

/// The units and the Debian package, as `make install` and `make deb` lay them out.
@Suite("Packaging")
struct PackagingTests {
    static let root = WarehouseFixture.repositoryRoot

    /// scripts/install.sh (what `make install` runs) into a staging folder, as the package lays it out.
    static func staged(binaryFolder: URL) async throws -> URL {
        let stage = FileManager.default.temporaryDirectory.appendingPathComponent("stage-\(UUID().uuidString)")
        let install = try await InstallTests.run(
            "/bin/bash", [root.appendingPathComponent("scripts/install.sh").path, binaryFolder.path],
            environment: ["DESTDIR": stage.path, "PREFIX": "/usr"])
        #expect(install.status == 0, "\(install.stderr)")
        return stage
    }

    @Test("every unit passes systemd-analyze verify, as installed")
    func unitsVerify() async throws {
        let analyze = "/usr/bin/systemd-analyze"
        guard FileManager.default.isExecutableFile(atPath: analyze) else {
            Issue.record("systemd-analyze is missing; fix: make deps (it installs the systemd package)")
            return
        }
        let folder = try await InstallTests.install()
        let stage = try await Self.staged(binaryFolder: folder)
        defer {
            try? FileManager.default.removeItem(at: folder)
            try? FileManager.default.removeItem(at: stage)
        }
        let units = stage.appendingPathComponent("lib/systemd/system")
        let names = try FileManager.default.contentsOfDirectory(atPath: units.path).sorted()
        #expect(names == ["ota-ingest-serve.service", "ota-ingest.service", "ota-ingest.timer"])
        // ExecStart must name an executable: the staged binary stands in for /usr/bin/ota-ingest.
        for name in names {
            let file = units.appendingPathComponent(name)
            let text = try String(contentsOf: file, encoding: .utf8)
            #expect(name.hasSuffix(".timer") || text.contains("ExecStart=/usr/bin/ota-ingest "), "\(name)")
            try text.replacingOccurrences(of: "/usr/bin/ota-ingest", with: stage.path + "/usr/bin/ota-ingest")
                .write(to: file, atomically: true, encoding: .utf8)
        }
        let verify = try await InstallTests.run(
            analyze, ["verify"] + names.map { units.appendingPathComponent($0).path })
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stderr.isEmpty, "systemd-analyze warned: \(verify.stderr)")
    }

    @Test("make deb's package holds the binary, the units and the sample config as conffiles; apt resolves it")
    func debianPackage() async throws {
        let folder = try await InstallTests.install()
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("deb-\(UUID().uuidString)")
        defer {
            try? FileManager.default.removeItem(at: folder)
            try? FileManager.default.removeItem(at: out)
        }
        let built = try await InstallTests.run(
            "/bin/bash", [Self.root.appendingPathComponent("scripts/deb.sh").path, folder.path, out.path],
            environment: ["DEB_COMPRESSION": "none"])
        #expect(built.status == 0, "\(built.stderr)")
        let deb = built.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(URL(fileURLWithPath: deb).lastPathComponent.hasPrefix("ota-ingest_"))

        let contents = try await InstallTests.run("/usr/bin/dpkg-deb", ["--contents", deb]).stdout
        for path in [
            "./usr/bin/ota-ingest", "./lib/systemd/system/ota-ingest.service", "./lib/systemd/system/ota-ingest.timer",
            "./lib/systemd/system/ota-ingest-serve.service", "./etc/ota-ingest/ota-ingest.toml",
            "./etc/ota-ingest/ota-ingest.env", "./usr/lib/sysusers.d/ota-ingest.conf",
            "./usr/share/man/man1/ota-ingest.1.gz", "./usr/share/ota-ingest/prometheus/ota-ingest-alerts.yml",
            "./usr/share/ota-ingest/prometheus/ota-ingest-alerts.test.yml",
            "./usr/share/ota-ingest/grafana/ota-ingest.json",
        ] {
            #expect(contents.contains(" " + path + "\n"), "\(path) in the package")
        }
        let depends = try await InstallTests.run("/usr/bin/dpkg-deb", ["--field", deb, "Depends"])
        #expect(depends.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "libpq5, libcurl4")
        let conffiles = try await InstallTests.run("/usr/bin/dpkg-deb", ["--info", deb, "conffiles"])
        #expect(conffiles.stdout == "/etc/ota-ingest/ota-ingest.toml\n/etc/ota-ingest/ota-ingest.env\n")

        let apt = try await InstallTests.run("/usr/bin/apt-get", ["install", "--simulate", deb])
        #expect(apt.status == 0, "\(apt.stdout) \(apt.stderr)")
        #expect(apt.stdout.contains("Inst ota-ingest"), "\(apt.stdout)")
    }
}
