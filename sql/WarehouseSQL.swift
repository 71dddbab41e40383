import Foundation

/// Locates the warehouse SQL files that ship inside the binary's resource bundle.
///
/// The files themselves stay plain SQL in `sql/` so analysts can read and run
/// them with psql; this is the only Swift in the folder.
public enum WarehouseSQL {
    /// The directory holding `NNNN_name.sql` migrations.
    public static var migrationsDirectory: URL {
        Bundle.module.resourceURL!.appendingPathComponent("migrations", isDirectory: true)
    }
}
