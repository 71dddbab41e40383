import Foundation

/// Locates the warehouse SQL files that ship inside the binary's resource bundle.
///
/// The files themselves stay plain SQL in `sql/` so analysts can read and run
/// them with psql; this is the only Swift in the folder.
public enum WarehouseSQL {
    /// Creates the migration ledger itself; run before any migration.
    public static var bootstrapFile: URL {
        Bundle.module.resourceURL!.appendingPathComponent("bootstrap.sql")
    }

    /// The directory holding `NNNN_name.sql` migrations.
    public static var migrationsDirectory: URL {
        Bundle.module.resourceURL!.appendingPathComponent("migrations", isDirectory: true)
    }
}
