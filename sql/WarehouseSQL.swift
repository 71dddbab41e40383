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

    /// The directory holding `NN_name.sql` transforms, run in name order in one transaction.
    public static var transformsDirectory: URL {
        Bundle.module.resourceURL!.appendingPathComponent("transforms", isDirectory: true)
    }

    /// The directory holding `NN_name.sql` data-quality checks, run after the transforms.
    public static var checksDirectory: URL {
        Bundle.module.resourceURL!.appendingPathComponent("checks", isDirectory: true)
    }

    /// The directory holding `NN_name.sql` comparison and repair files, run in name order per snapshot.
    public static var reconcileDirectory: URL {
        Bundle.module.resourceURL!.appendingPathComponent("reconcile", isDirectory: true)
    }

    /// The directory holding `NN_name.sql` feed definitions (views and functions), re-applied when changed.
    public static var feedsDirectory: URL {
        Bundle.module.resourceURL!.appendingPathComponent("feeds", isDirectory: true)
    }

    /// The directory holding the SQL that merges `seeds/*.csv` into dims.
    public static var seedsDirectory: URL {
        Bundle.module.resourceURL!.appendingPathComponent("seeds", isDirectory: true)
    }

    /// Forgets every promotion, so the transforms after it rebuild facts from all of staging.
    public static var fullRefreshFile: URL {
        Bundle.module.resourceURL!.appendingPathComponent("full_refresh.sql")
    }
}
