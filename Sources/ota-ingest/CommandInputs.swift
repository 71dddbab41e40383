import OTAIngest

/// What several commands read the same way: the config file they cannot run without.
enum CommandInputs {
    static func config(_ global: GlobalOptions, for command: String) throws -> IngestConfig {
        guard let config = try global.loadConfig() else {
            throw ConfigError("\(command) needs a configuration file; fix: pass --config or set OTA_INGEST_CONFIG")
        }
        return config
    }
}
