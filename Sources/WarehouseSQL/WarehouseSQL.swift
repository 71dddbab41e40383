/// The warehouse SQL of `sql/`, compiled into the binary.
///
/// The files stay plain SQL in `sql/` so analysts can read and run them with
/// psql; at build time the EmbedSQL plugin turns each into a string here, so an
/// installed `ota-ingest` needs nothing beside it (no resource bundle, no
/// checkout).
public enum WarehouseSQL {
    /// One `.sql` file: its name within its folder and its exact text.
    public struct File: Sendable, Equatable {
        public var name: String
        public var sql: String
    }

    /// Creates the migration ledger itself; run before any migration.
    public static var bootstrap: String { text(of: "bootstrap.sql") }

    /// `migrations/NNNN_name.sql`, in name order.
    public static var migrations: [File] { files(in: "migrations") }

    /// `transforms/NN_name.sql`, run in name order in one transaction.
    public static var transforms: [File] { files(in: "transforms") }

    /// `checks/NN_name.sql`: data-quality checks, run after the transforms.
    public static var checks: [File] { files(in: "checks") }

    /// `reconcile/NN_name.sql`: comparison and repair, run in name order per snapshot.
    public static var reconcile: [File] { files(in: "reconcile") }

    /// `feeds/NN_name.sql`: feed definitions (views and functions), re-applied when changed.
    public static var feeds: [File] { files(in: "feeds") }

    /// `seeds/NN_name.sql`: how `seeds/*.csv` are merged into dims.
    public static var seeds: [File] { files(in: "seeds") }

    /// Forgets every promotion, so the transforms after it rebuild facts from all of staging.
    public static var fullRefresh: String { text(of: "full_refresh.sql") }

    /// Creates the owner, the daily login role and the groups; a superuser runs it once
    /// after `set ota.owner_role = '...'; set ota.login_role = '...';`.
    public static var setupRoles: String { text(of: "setup_roles.sql") }

    /// The `.sql` files directly in one folder of `sql/`, in name order (empty for an unknown folder).
    public static func files(in folder: String) -> [File] {
        let prefix = folder + "/"
        return embeddedFiles.filter { $0.path.hasPrefix(prefix) && !$0.path.dropFirst(prefix.count).contains("/") }
            .map { File(name: String($0.path.dropFirst(prefix.count)), sql: $0.sql) }
    }

    /// Every embedded file by its path under `sql/` (e.g. `migrations/0001_schemas.sql`), in path order.
    public static var allFiles: [(path: String, sql: String)] { embeddedFiles.map { ($0.path, $0.sql) } }

    private static func text(of path: String) -> String {
        // The build embeds every file of sql/; one of these missing is a broken checkout, not a user error.
        guard let file = embeddedFiles.first(where: { $0.path == path }) else {
            preconditionFailure("sql/\(path) was not embedded at build time")
        }
        return file.sql
    }
}

/// A file as the EmbedSQL plugin writes it into `embeddedFiles`.
struct EmbeddedFile: Sendable {
    var path: String
    var sql: String
}
