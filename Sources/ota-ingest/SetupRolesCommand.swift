import ArgumentParser
import OTAIngest
import WarehouseSQL

/// `ota-ingest setup-roles`: prints the SQL a superuser runs once to create the warehouse's roles.
struct SetupRolesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "setup-roles",
        abstract: "Print the SQL that creates the owner role, the daily login role and ota_analyst.",
        discussion: """
            Nothing is run: pipe the output into psql as a superuser, connected to the warehouse's \
            database, once:
              ota-ingest setup-roles | psql "postgresql://postgres@db.internal/warehouse" -v ON_ERROR_STOP=1
            then set each login role's password with psql's \\password. The owner role owns the \
            database and its schemas and runs `ota-ingest migrate`; the login role (a member of \
            ota_ingest) runs pull, load, transform, reconcile, nightly, serve, export and status; \
            ota_analyst reads facts, dims and feeds. Running it again changes nothing that exists.
            """)

    @Option(help: "The owner role: owns the schemas, runs migrate.")
    var owner = "ota_owner"

    @Option(help: "The daily login role: runs every other command.")
    var login = "ota_etl"

    func validate() throws {
        for (flag, name) in [("--owner", owner), ("--login", login)] {
            guard name.range(of: "^[a-z_][a-z0-9_]{0,62}$", options: .regularExpression) != nil else {
                throw ValidationError(
                    "\(flag) \(name) is not a plain role name; fix: use lowercase letters, digits and _ (at most 63)")
            }
            guard !["ota_ingest", "ota_analyst", "postgres", "public"].contains(name) else {
                throw ValidationError("\(flag) \(name) is a group or reserved role; fix: name a login role of its own")
            }
        }
        guard owner != login else {
            throw ValidationError(
                "--owner and --login are both \(owner); fix: give the daily login role a name of its own")
        }
    }

    func run() throws {
        // The names passed the check above, so quoting them as SQL literals is safe.
        print("set ota.owner_role = '\(owner)';")
        print("set ota.login_role = '\(login)';")
        print(WarehouseSQL.setupRoles, terminator: "")
    }
}
