import WarehouseSQL

/// What `ota-ingest --version` prints: the release, the commit it was built from
/// (stamped at build time by the StampCommit plugin) and the newest migration it carries.
enum Version {
    /// The release number; `make deb` names the package after it.
    static let release = "0.1.0"

    static var text: String {
        let commit = BuildCommit.id == "unknown" ? "unknown (not built from a git checkout)" : BuildCommit.id
        return """
            ota-ingest \(release)
            commit \(commit)
            latest migration \(WarehouseSQL.migrations.last?.name ?? "none")
            """
    }
}
