import OTAIngest

/// What several commands read the same way: the config file they cannot run
/// without, `--log-format`, and the hidden `--now` that pins the clock.
enum CommandInputs {
    static func config(_ global: GlobalOptions, for command: String) throws -> IngestConfig {
        guard let config = try global.loadConfig() else {
            throw ConfigError("\(command) needs a configuration file; fix: pass --config or set OTA_INGEST_CONFIG")
        }
        return config
    }

    static func logFormat(_ text: String) throws -> RunLog.Format {
        guard let format = RunLog.Format(rawValue: text) else {
            throw ConfigError("--log-format \(text) is unknown; fix: use text or json")
        }
        return format
    }

    static func clock(now: String?) throws -> WallClock {
        guard let now else { return .system }
        guard let date = Timestamps.parse(now) else {
            throw ConfigError("--now \(now) is not an ISO-8601 time; fix: e.g. 2026-01-01T00:00:00Z")
        }
        return WallClock(pinned: date)
    }
}
