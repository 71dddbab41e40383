import Foundation
import OTAIngest
import Testing

@Suite struct ConfigTests {
    private let example = """
        [sources.webhotelier]
        kind = "webhotelier"
        base_url = "https://rest.reserve-online.net/"
        credentials_dir = "/run/credentials/ota-ingest.service"
        properties = ["HTL001", "HTL002"]
        concurrency = 8
        pending_interval_minutes = 0

        [sources.acme]
        kind = "cursor"
        base_url = "http://127.0.0.1:9000/v2"
        token_env = "ACME_TOKEN"
        page_size = 500
        requests_per_second = 2.5
        """

    @Test func readsEverySourceAndKey() throws {
        let config = try ConfigLoader.parse(example, file: "ota.toml")
        let wh = try config.source(named: "webhotelier")
        #expect(wh.kind == .webhotelier)
        #expect(wh.baseURL == "https://rest.reserve-online.net")
        #expect(wh.secrets == .directory(path: "/run/credentials/ota-ingest.service"))
        #expect(wh.properties == ["HTL001", "HTL002"])
        #expect(wh.concurrency == 8)
        #expect(wh.pendingListInterval == .zero)
        #expect(wh.feedInterval == .seconds(6 * 3600))
        let acme = try config.source(named: "acme")
        #expect(acme.kind == .cursor)
        #expect(acme.secrets == .environment(variable: "ACME_TOKEN"))
        #expect(acme.pageSize == 500)
        #expect(acme.requestsPerSecond == 2.5)
    }

    @Test func readsReconcileSettingsPerSourceAndStream() throws {
        let config = try ConfigLoader.parse(
            example + """

                [sources.acme.reconcile]
                keep_snapshots = 5
                window_days = 10
                snapshot_reuse_minutes = 0
                max_mismatched_share = 0.01
                thresholds = { inventory = 0.002 }
                """, file: "ota.toml")
        let acme = try config.source(named: "acme").reconcile
        #expect(acme.keepSnapshots == 5)
        #expect(acme.reservationWindowDays == 10)
        #expect(acme.snapshotReuse == .zero)
        #expect(acme.threshold(for: "inventory") == 0.002)
        #expect(acme.threshold(for: "rates") == 0.01)
        // Unconfigured: no threshold of its own (the comparison SQL's 0.5% applies) and 14 snapshots.
        let wh = try config.source(named: "webhotelier").reconcile
        #expect(wh.threshold(for: "reservations") == nil)
        #expect(wh.keepSnapshots == 14)
        #expect(throws: ConfigError.self) {
            try ConfigLoader.parse(
                example + "\n[sources.acme.reconcile]\nthresholds = { invntory = 0.1 }\n", file: "ota.toml")
        }
    }

    @Test func unknownKeyIsNamed() {
        let text = example.replacingOccurrences(of: "concurrency = 8", with: "concurency = 8")
        #expect(throws: ConfigError.self) { try ConfigLoader.parse(text, file: "ota.toml") }
        do {
            _ = try ConfigLoader.parse(text, file: "ota.toml")
        } catch {
            let message = String(describing: error)
            #expect(message.contains("ota.toml"))
            #expect(message.contains("sources.webhotelier.concurency"))
            #expect(message.contains("fix:"))
        }
    }

    @Test func unknownTopLevelKeyIsNamed() {
        let error = #expect(throws: ConfigError.self) {
            try ConfigLoader.parse("pasword = \"hunter2\"\n", file: "ota.toml")
        }
        #expect(error?.message.contains("unknown key pasword") == true)
        #expect(error?.message.contains("hunter2") == false)
    }

    @Test("a secret written into the config is refused as a secret, with the reference to use instead")
    func inlineSecretsSayHowToReferenceThem() {
        for (text, key, reference) in [
            ("password = \"hunter2\"\n", "password", "credentials_file"),
            (
                "[sources.wh]\nkind = \"webhotelier\"\nbase_url = \"https://x.example\"\npassword = \"hunter2\"\n",
                "sources.wh.password", "credentials_env_prefix"
            ),
            (
                "[sources.feed]\nkind = \"cursor\"\nbase_url = \"https://x.example\"\ntoken = \"hunter2\"\n",
                "sources.feed.token", "token_env or token_file"
            ),
            (
                "[serve]\nbasic_username = \"wh\"\nbasic_password = \"hunter2\"\n", "serve.basic_password",
                "basic_password_env"
            ),
        ] {
            let error = #expect(throws: ConfigError.self) { try ConfigLoader.parse(text, file: "ota.toml") }
            let message = error?.message ?? ""
            #expect(message.contains("\(key) holds a secret in the config file"), "\(message)")
            #expect(message.contains("secrets go by reference") && message.contains(reference), "\(message)")
            #expect(!message.contains("hunter2"))
        }
    }

    @Test func syntaxErrorsNameTheLine() {
        let error = #expect(throws: ConfigError.self) {
            try ConfigLoader.parse("[sources.x]\nkind = \n", file: "ota.toml")
        }
        #expect(error?.message.contains("line 2") == true)
    }

    @Test func wrongTypesAndRangesAreRefused() {
        let badType = example.replacingOccurrences(of: "concurrency = 8", with: "concurrency = \"8\"")
        #expect(throws: ConfigError.self) { try ConfigLoader.parse(badType, file: "ota.toml") }
        let badRange = example.replacingOccurrences(of: "concurrency = 8", with: "concurrency = 0")
        #expect(throws: ConfigError.self) { try ConfigLoader.parse(badRange, file: "ota.toml") }
        let badKind = example.replacingOccurrences(of: "kind = \"cursor\"", with: "kind = \"ftp\"")
        #expect(throws: ConfigError.self) { try ConfigLoader.parse(badKind, file: "ota.toml") }
    }

    @Test func secretsAreReferencedNeverInlined() {
        let inline = """
            [sources.acme]
            kind = "cursor"
            base_url = "http://user:secret@127.0.0.1/v2"
            token_env = "ACME_TOKEN"
            """
        let error = #expect(throws: ConfigError.self) { try ConfigLoader.parse(inline, file: "ota.toml") }
        #expect(error?.message.contains("secret") == false)
        let none = """
            [sources.acme]
            kind = "cursor"
            base_url = "http://127.0.0.1/v2"
            """
        #expect(throws: ConfigError.self) { try ConfigLoader.parse(none, file: "ota.toml") }
    }

    @Test func missingFileIsAConfigError() {
        let error = #expect(throws: ConfigError.self) { try ConfigLoader.load(path: "/nonexistent/ota.toml") }
        #expect(error?.exitStatus == .usage)
        #expect(error?.message.contains("/nonexistent/ota.toml") == true)
    }

    @Test func missingTokenVariableIsNamedWithoutAValue() throws {
        let config = try ConfigLoader.parse(example, file: "ota.toml")
        let resolver = SecretResolver(environment: [:])
        let error = #expect(throws: ConfigError.self) { try resolver.token(for: try config.source(named: "acme")) }
        #expect(error?.message.contains("ACME_TOKEN is not set") == true)
        let token = try SecretResolver(environment: ["ACME_TOKEN": "s3cr3t"]).token(
            for: try config.source(named: "acme"))
        #expect(token == "s3cr3t")
    }

    @Test func credentialsComeFromADirectoryAFileOrTheEnvironment() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("creds-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "user1:pa:ss word\n".write(to: dir.appendingPathComponent("HTL001"), atomically: true, encoding: .utf8)
        try "user2:pw2".write(to: dir.appendingPathComponent("HTL002"), atomically: true, encoding: .utf8)
        var source = SourceConfig(
            name: "webhotelier", kind: .webhotelier, baseURL: "http://x", secrets: .directory(path: dir.path))
        let accounts = try SecretResolver(environment: [:]).accounts(for: source)
        #expect(
            accounts == [
                PropertyAccount(propertyCode: "HTL001", username: "user1", password: "pa:ss word"),
                PropertyAccount(propertyCode: "HTL002", username: "user2", password: "pw2"),
            ])

        let file = dir.appendingPathComponent("all.txt")
        try "# code user:password\nHTL003 u3:p3\n\nHTL004 u4:p4\n".write(to: file, atomically: true, encoding: .utf8)
        source.secrets = .file(path: file.path)
        source.properties = ["HTL004"]
        #expect(try SecretResolver(environment: [:]).accounts(for: source).map(\.username) == ["u4"])

        source.secrets = .environmentPrefix("WH_")
        source.properties = ["HTL009"]
        let missing = #expect(throws: ConfigError.self) {
            try SecretResolver(environment: ["WH_HTL001": "a:b"]).accounts(for: source)
        }
        #expect(missing?.message.contains("HTL009") == true)
        #expect(missing?.message.contains("a:b") == false)
    }
}
