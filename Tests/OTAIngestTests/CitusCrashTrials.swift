import Foundation
import OTAIngest
import OTASandbox
import PostgresClient
import Synchronization
import TestSupport
import Testing

/// Crash trials on the three-node cluster: the pull killed while it acknowledges bookings,
/// the transform killed in the middle of its promotion, and a worker stopped at once in
/// the middle of a transform (at its two-phase commit, or before it), recovered and
/// restarted before the rerun. After each night the cluster's staging and facts must equal
/// those of one server that ran the same night without a crash, nothing the OTA was told
/// is stored may be missing, and nothing may be left queued. `make test-citus` runs one
/// night; `make torture` (with Citus installed) runs ten and reports them with the rest.
extension CitusTests {
    /// Bookings come and go every night (new ones, changes, cancellations), so every night's
    /// pull has acknowledgements to crash in; 3% server errors keep the retries in play.
    static func crashWorld(_ c: inout SandboxConfiguration) {
        c.seed = 211
        c.propertyCount = 2
        c.initialBookingsPerProperty = 6
        c.minimumPendingIntervalMinutes = 0
        c.faults.serverErrorRate = 0.03
    }

    /// What one night's commands are: the WebHotelier bookings, its feeds, the cursor
    /// feed, then the transform.
    static func pull(_ kind: String, _ w: Warehouse, _ config: URL) -> [String] {
        ["pull", kind, "--config", config.path, "--now", Timestamps.format(w.server.now)]
    }

    /// Staging and facts (the fingerprint without the exports and drift metrics, which
    /// need a reconcile the trials do not run).
    static func crashFingerprint(_ w: Warehouse) async throws -> [String: [String]] {
        try await fingerprint(w, exports: false)
    }

    @Test(
        "crash trials on three nodes: the pull killed while it acknowledges, the transform killed mid-promotion, a worker stopped at the transform's two-phase commit then recovered; each night equals one server's clean night and nothing acknowledged is lost"
    )
    func crashTrials() async throws {
        let nights = Torture.trials(short: 1, full: 10)
        let single = try await TestDatabase.create()
        let one = try await Self.warehouse(url: single.url, distributed: false, world: Self.crashWorld)
        let oneConfig = try NightlyTests.config(one.harness)
        var reports = CrashReports()
        do {
            try await CitusCluster.with { cluster in
                let citus = try await Self.warehouse(url: cluster.url, distributed: true, world: Self.crashWorld)
                let config = try NightlyTests.config(citus.harness)
                for night in 0..<nights {
                    one.server.advance(minutes: 1440)
                    citus.server.advance(minutes: 1440)
                    for kind in ["reservations", "rates", "inventory"] {
                        let clean = try await one.run(Self.pull(kind, one, oneConfig))
                        #expect([0, 3].contains(clean.status), "one server, pull \(kind): \(clean.stderr)")
                    }
                    let cleanTransform = try await one.run(["transform"])
                    #expect(cleanTransform.status == 0, "one server, transform: \(cleanTransform.stderr)")
                    let expected = try await Self.crashFingerprint(one)

                    reports.pull.add(try await Self.killPullWhileItAcknowledges(citus, config))
                    for kind in ["rates", "inventory"] {
                        let outcome = try await citus.run(Self.pull(kind, citus, config))
                        #expect([0, 3].contains(outcome.status), "Citus, pull \(kind): \(outcome.stderr)")
                    }
                    reports.transform.add(try await Self.killTransformMidPromotion(citus, cluster))
                    // Even nights stop the worker at the two-phase commit, odd ones before it.
                    reports.worker.add(
                        try await Self.stopWorkerMidTransform(citus, cluster, atCommit: night % 2 == 0))
                    let rerun = try await citus.run(["transform"])
                    #expect(rerun.status == 0, "Citus, transform after the crashes: \(rerun.stderr)")

                    let actual = try await Self.crashFingerprint(citus)
                    expectSameStaging(actual, expected)
                    reports.differences += Self.differences(actual, expected)
                }
                await citus.server.stop()
            }
        } catch {
            await one.server.stop()
            try? await single.drop()
            throw error
        }
        await one.server.stop()
        try await single.drop()

        // Every night ends compared with one server's; the differences are counted once, with
        // the scenario that ran last in the night (the worker's), and each scenario's own checks.
        Torture.record(
            "Citus: SIGKILL of pull while it acknowledges bookings, rerun", trials: nights,
            violations: reports.pull.violations,
            note: "acknowledged-not-stored after the kill and after the rerun, bookings left queued; "
                + "\(reports.pull.mid) of \(nights) killed mid-pull")
        Torture.record(
            "Citus: SIGKILL of transform mid-promotion, rerun", trials: nights,
            violations: reports.transform.violations,
            note: "facts unchanged by the killed run; \(reports.transform.mid) of \(nights) killed mid-promotion")
        Torture.record(
            "Citus: a worker stopped at once mid-transform (two-phase commit or before), recovered, restarted, rerun",
            trials: nights, violations: reports.worker.violations + reports.differences,
            note: "staging and facts after the night vs one server's clean night; "
                + "\(reports.worker.mid) of \(nights) stopped mid-transform, \(reports.worker.recovered) "
                + "prepared transactions recovered")
        #expect(reports.pull.mid == nights, "the pull was not killed mid-way in every night")
        #expect(reports.transform.mid == nights, "the transform was not killed mid-promotion in every night")
        #expect(reports.worker.mid == nights, "the worker was not stopped mid-transform in every night")
        #expect(reports.pull.violations + reports.transform.violations + reports.worker.violations == 0)
        #expect(reports.differences == 0)
    }

    /// Rows in one fingerprint and not the other, over every table: 0 when equal.
    static func differences(_ a: [String: [String]], _ b: [String: [String]]) -> Int {
        Set(a.keys).union(b.keys).map { Torture.difference(a[$0] ?? [], b[$0] ?? []) }.reduce(0, +)
    }

    // MARK: - The crashes

    /// Starts `pull reservations` and kills it (SIGKILL) from inside the sandbox while it
    /// acknowledges the middle booking of the night: that booking's version was committed
    /// before the client asked to mark it synced, and the sandbox applies the sync after the
    /// kill, as an OTA would that received the request from a client that then died. Then
    /// nothing acknowledged may be missing from staging, before and after the rerun.
    static func killPullWhileItAcknowledges(_ w: Warehouse, _ config: URL) async throws -> CrashReport {
        let h = w.harness
        let wasQueued = Set(h.server.syncQueue().values.flatMap { $0 })
        let killAt = max(1, wasQueued.count / 2)
        let victim = Mutex<(child: ChildProcess?, syncs: Int, killed: Bool)>((nil, 0, false))
        h.server.observeSyncs { _ in
            victim.withLock { v in
                v.syncs += 1
                if v.syncs == killAt, let child = v.child {
                    child.kill()
                    v.killed = true
                }
            }
        }
        let child = try ChildProcess(
            pull("reservations", w, config) + ["--database-url", w.url], environment: w.environment)
        victim.withLock { $0.child = child }
        _ = try await child.wait()
        h.server.observeSyncs(nil)
        var report = CrashReport()
        report.mid = victim.withLock { $0.killed } ? 1 : 0
        let lost = try await TortureTests.syncedNotStored(h, wasQueued: wasQueued)
        if lost > 0 { Issue.record("\(lost) bookings acknowledged and not stored after the kill") }
        let rerun = try await w.run(pull("reservations", w, config))
        #expect([0, 3].contains(rerun.status), "pull reservations after the kill: \(rerun.stderr)")
        let lostAfter = try await TortureTests.syncedNotStored(h, wasQueued: wasQueued)
        let queued = h.server.syncQueue().values.map(\.count).reduce(0, +)
        if lostAfter + queued > 0 { Issue.record("after the rerun: \(lostAfter) lost, \(queued) still queued") }
        report.violations = lost + lostAfter + queued + (rerun.status == 0 || rerun.status == 3 ? 0 : 1)
        return report
    }

    /// A session holding `ops.dq_results` in share mode: the transform's checks, which run in
    /// the promotion's transaction after every promotion file, wait for it. While they wait the
    /// transform is mid-way for certain: its facts written on the workers, nothing committed.
    final class CheckGate: Sendable {
        let connection: PostgresConnection

        private init(_ connection: PostgresConnection) { self.connection = connection }

        static func close(on url: String) async throws -> CheckGate {
            let c = try await PostgresConnection.connect(url, applicationName: "ota-crash-trial")
            try await c.executeScript("begin; lock table ops.dq_results in share mode")
            return CheckGate(c)
        }

        func open() async throws {
            try await connection.executeScript("commit")
            await connection.close()
        }

        /// Waits until a transform's statement waits for the gate; false if `child` ended first.
        static func waitForTransform(_ child: ChildProcess, observer: PostgresConnection) async throws -> Bool {
            let reached = try await ServerActivity.poll {
                if !child.isRunning { return true }
                return try await observer.query(
                    """
                    select 1 from pg_stat_activity
                    where application_name = 'ota-ingest' and wait_event_type = 'Lock' and query like '%ops.dq_results%'
                    """
                ).count > 0
            }
            return reached && child.isRunning
        }
    }

    /// SIGKILL of `transform` while it waits at the gate (every promotion statement done, not
    /// committed); the facts must be as before it.
    static func killTransformMidPromotion(_ w: Warehouse, _ cluster: CitusCluster) async throws -> CrashReport {
        let before = try await crashFingerprint(w)
        let observer = try await PostgresConnection.connect(cluster.url, applicationName: "ota-crash-trial")
        let gate = try await CheckGate.close(on: cluster.url)
        let child = try ChildProcess(["transform", "--database-url", w.url])
        var report = CrashReport()
        if try await CheckGate.waitForTransform(child, observer: observer) {
            report.mid = 1
            child.kill()
        }
        _ = try await child.wait()
        try await gate.open()
        // The killed session's backend rolls back when it next reads from its client; the
        // facts are read after it has gone.
        _ = try await ServerActivity.poll {
            try await observer.query(
                "select 1 from pg_stat_activity where application_name = 'ota-ingest' and query like '%ops.dq_results%'"
            ).isEmpty
        }
        await observer.close()
        let after = try await crashFingerprint(w)
        report.violations = Self.differences(before, after)
        if report.violations > 0 { Issue.record("the killed transform changed \(report.violations) rows") }
        return report
    }

    /// Stops the first worker at once (`pg_ctl stop -m immediate`) in the middle of a transform.
    /// `atCommit`: when the coordinator has prepared the transaction on both workers and waits to
    /// finish its own commit (held there by a synchronous standby that never answers), so the
    /// worker goes down holding a prepared transaction the coordinator has committed: the worker
    /// is restarted and `recover_prepared_transactions()` commits it. Otherwise while the checks
    /// wait at the gate, so the transform fails and rolls back everywhere. A rerun follows either way.
    static func stopWorkerMidTransform(_ w: Warehouse, _ cluster: CitusCluster, atCommit: Bool) async throws
        -> CrashReport
    {
        let worker = cluster.workers[0]
        let admin = try await PostgresConnection.connect(cluster.url, applicationName: "ota-crash-trial")
        let observer = try await PostgresConnection.connect(cluster.url, applicationName: "ota-crash-trial")
        var report = CrashReport()
        let gate = try await CheckGate.close(on: cluster.url)
        // Commits wait for a synchronous standby only under synchronous_commit = on (the
        // throwaway nodes run with it off): the transform's own sessions ask for it.
        let child = try ChildProcess(
            ["transform", "--database-url", w.url],
            environment: atCommit ? ["PGOPTIONS": "-c synchronous_commit=on"] : [:])
        let atGate = try await CheckGate.waitForTransform(child, observer: observer)
        if atCommit {
            // From here on the coordinator's commits wait for a standby that never answers.
            // The transform's session reads the setting at its next statement; a new session
            // sees it only after the postmaster has passed the reload on to every session.
            try await admin.executeScript("alter system set synchronous_standby_names = 'ota_crash_trial_never'")
            _ = try await admin.query("select pg_reload_conf()")
            _ = try await ServerActivity.poll {
                let fresh = try await PostgresConnection.connect(cluster.url, applicationName: "ota-crash-trial")
                let reloaded = try await fresh.query("select current_setting('synchronous_standby_names') <> ''")[0]
                    .decode(Bool.self, at: 0)
                await fresh.close()
                return reloaded
            }
            try await gate.open()
            let workerDirect = try await PostgresConnection.connect(CitusCluster.url(worker))
            let prepared = try await ServerActivity.poll {
                if !child.isRunning { return true }
                let waiting =
                    try await observer.query(
                        "select 1 from pg_stat_activity where application_name = 'ota-ingest' and wait_event = 'SyncRep'"
                    ).count > 0
                let held = try await workerDirect.query("select count(*)::integer from pg_prepared_xacts")[0].decode(
                    Int.self, at: 0)
                return waiting && held > 0
            }
            await workerDirect.close()
            if atGate && prepared && child.isRunning {
                report.mid = 1
                try await worker.stopImmediately()
            }
            try await admin.executeScript("alter system reset synchronous_standby_names")
            _ = try await admin.query("select pg_reload_conf()")
        } else {
            if atGate {
                report.mid = 1
                try await worker.stopImmediately()
            }
            try await gate.open()
        }
        let outcome = try await child.wait()
        if report.mid == 1 {
            try await worker.startServer()
        } else {
            Issue.record("the worker was not stopped mid-transform; transform: \(outcome.stderr)")
        }
        // Before anything else writes: commit on the worker what the coordinator committed.
        let recovered = try await admin.query("select recover_prepared_transactions()")[0].decode(Int.self, at: 0)
        report.recovered = recovered
        if atCommit && report.mid == 1 && recovered == 0 {
            Issue.record("no prepared transaction was left to recover after the stop at the two-phase commit")
            report.violations += 1
        }
        await observer.close()
        await admin.close()
        return report
    }
}

/// What one crash did: whether it happened mid-way, violations it found, prepared
/// transactions recovered after it.
struct CrashReport {
    var mid = 0
    var violations = 0
    var recovered = 0
}

/// Crash reports summed over the nights, per scenario.
struct CrashReports {
    struct Sum {
        var mid = 0
        var violations = 0
        var recovered = 0

        mutating func add(_ r: CrashReport) {
            mid += r.mid
            violations += r.violations
            recovered += r.recovered
        }
    }

    var pull = Sum()
    var transform = Sum()
    var worker = Sum()
    var differences = 0
}
