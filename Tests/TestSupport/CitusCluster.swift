import Foundation
import PostgresClient

/// A throwaway three-node Citus cluster of a test's own: a coordinator and two workers,
/// each a `ScratchCluster` on its own free loopback port with `shared_preload_libraries =
/// citus`, one database `ota` on each with the extension, the workers registered with the
/// coordinator. Needs Citus installed for the server (`make citus`).
public final class CitusCluster: Sendable {
    public let coordinator: ScratchCluster
    public let workers: [ScratchCluster]

    /// The `ota` database on the coordinator, where the warehouse lives.
    public var url: String { Self.url(coordinator, database: Self.database) }

    public static let database = "ota"

    /// Two-phase commit needs prepared transactions on every node; the cluster's own
    /// connections need more than a test server's default.
    static let settings = [
        "shared_preload_libraries=citus", "max_prepared_transactions=200", "max_connections=300",
        // The test asks for 2PC recovery itself, so the maintenance daemon's own run
        // (every minute by default) never races the assertions.
        "citus.recover_2pc_interval=-1",
    ]

    private init(coordinator: ScratchCluster, workers: [ScratchCluster]) {
        self.coordinator = coordinator
        self.workers = workers
    }

    public static func url(_ node: ScratchCluster, database: String = database) -> String {
        "host=127.0.0.1 port=\(node.port) dbname=\(database) user=postgres connect_timeout=5"
    }

    /// True when citus.so is installed for the newest server under /usr/lib/postgresql.
    public static var isInstalled: Bool {
        guard
            let version = try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql").sorted().last
        else { return false }
        return FileManager.default.fileExists(atPath: "/usr/lib/postgresql/\(version)/lib/citus.so")
    }

    /// Starts three nodes and forms the cluster.
    public static func start() async throws -> CitusCluster {
        var nodes: [ScratchCluster] = []
        do {
            for _ in 0..<3 { nodes.append(try await ScratchCluster.start(settings: settings)) }
            for node in nodes {
                let admin = try await PostgresConnection.connect(node.url, applicationName: "ota-citus-tests")
                try await admin.execute("create database \(database)")
                await admin.close()
                let db = try await PostgresConnection.connect(
                    Self.url(node), applicationName: "ota-citus-tests")
                try await db.execute("create extension citus")
                await db.close()
            }
            let coordinator = try await PostgresConnection.connect(
                Self.url(nodes[0]), applicationName: "ota-citus-tests")
            _ = try await coordinator.query("select citus_set_coordinator_host('127.0.0.1', $1)", [nodes[0].port])
            for worker in nodes.dropFirst() {
                _ = try await coordinator.query("select citus_add_node('127.0.0.1', $1)", [worker.port])
            }
            await coordinator.close()
        } catch {
            for node in nodes { await node.destroy() }
            throw error
        }
        return CitusCluster(coordinator: nodes[0], workers: Array(nodes.dropFirst()))
    }

    /// Stops every node and removes its files.
    public func destroy() async {
        for node in [coordinator] + workers { await node.destroy() }
    }

    /// Runs `body` with a fresh cluster and destroys it afterwards, also when `body` throws.
    public static func with<Value>(_ body: (CitusCluster) async throws -> Value) async throws -> Value {
        let cluster = try await start()
        do {
            let value = try await body(cluster)
            await cluster.destroy()
            return value
        } catch {
            await cluster.destroy()
            throw error
        }
    }
}
