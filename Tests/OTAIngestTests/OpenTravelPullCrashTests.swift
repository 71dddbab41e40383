import Foundation
import OTAIngest
import OTASandbox
import PostgresClient
import Synchronization
import TestSupport
import Testing

/// `pull reservations` killed with SIGKILL at the moment its acknowledgement reaches the
/// OTA, that is after its durable commit (`make torture` runs 20 trials, `make test` 3).
/// Most trials drop that acknowledgement unapplied, as if the process had died before
/// sending it (the reservations stay queued); every third lets it be applied, as if the
/// process had died before reading the answer. After every trial a fresh run goes on;
/// at the end staging and facts equal the sandbox's truth, the queues are empty, no
/// version is stored twice, and nothing was acknowledged that was not stored.
@Suite struct OpenTravelPullCrashTests {
    @Test func sigkillBetweenCommitAndAcknowledgementLosesDoublesAndAcknowledgesNothingUnstored() async throws {
        let trials = Torture.trials(short: 3, full: 20)
        var violations = 0
        try await PullHarness.with({ c in OpenTravelPullTests.world(&c) }) { h in
            let config = FileManager.default.temporaryDirectory.appendingPathComponent("ot-\(UUID().uuidString).toml")
            try """
            [sources.bdc]
            kind = "opentravel"
            base_url = "\(h.baseURL)/hotels/ota"
            credentials_env = "BDC_ACCOUNT"
            auth = "bearer"
            poll_ms = 10
            after_ack_ms = 10
            requests_per_second = 5000
            burst = 5000
            """.write(to: config, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: config) }
            let arguments = ["pull", "reservations", "--config", config.path, "--database-url", h.db.url]
            let trial = KillAtAcknowledgement()
            h.server.interceptOpenTravelAcks { _, _, ids in
                guard let drop = trial.claim() else { return true }
                let child = await trial.child()
                // The acknowledgement is here: the commit before it holds every id it names.
                let stored =
                    (try? await h.strings(
                        """
                        select distinct confirmation_id from staging.reservation_events
                        where source = 'bdc' and confirmation_id = any($1)
                        """, [PostgresTextArray(ids)])) ?? []
                trial.noteUnstored(Set(ids).subtracting(stored).sorted())
                child.kill()
                return !drop
            }
            var dropped = 0
            for n in 0..<trials {
                // Something queued for this trial to land.
                while h.server.openTravelQueues().isEmpty { h.server.advance(minutes: 30) }
                let drop = n % 3 != 2
                trial.arm(drop: drop)
                let child = try ChildProcess(arguments, environment: OpenTravelPullTests.environment)
                trial.started(child)
                let outcome = try await child.wait()
                #expect(trial.fired, "trial \(n): the pull ended (\(outcome.status)) without acknowledging")
                if !trial.fired { violations += 1 }
                if trial.fired && drop {
                    dropped += 1
                    // Committed, never acknowledged: still queued, still listed as waiting.
                    #expect(!h.server.openTravelQueues().isEmpty)
                    #expect(try await h.int("select count(*)::int from ops.opentravel_waiting") > 0)
                }
                h.server.advance(minutes: 20)
            }
            h.server.interceptOpenTravelAcks(nil)
            try await OpenTravelPullTests.drain(h, auth: .bearer)
            let unstoredAtAck = trial.unstored
            let unstored = try await OpenTravelPullTests.ackedButNotStored(h)
            let doubled = try await OpenTravelPullTests.doubled(h)
            let differences = try await OpenTravelPullTests.differences(h)
            let queued = h.server.openTravelQueues().count
            let waiting = try await h.int("select count(*)::int from ops.opentravel_waiting")
            #expect(unstoredAtAck.isEmpty, "acknowledged before being stored: \(unstoredAtAck.prefix(6))")
            #expect(unstored.isEmpty, "acknowledged, not stored: \(unstored.prefix(6))")
            #expect(doubled.isEmpty, "stored twice: \(doubled.prefix(6))")
            #expect(differences.isEmpty, "facts vs truth: \(differences.prefix(6))")
            #expect(queued == 0 && waiting == 0, "left queued: \(queued), listed waiting: \(waiting)")
            #expect(dropped > 0)
            // The rerun after a dropped acknowledgement landed what it was served again, as no-ops.
            let acks = h.server.openTravelAcks()
            #expect(acks.filter { $0.outcome == "dropped" }.count == dropped)
            violations +=
                unstoredAtAck.count + unstored.count + doubled.count + differences.count + queued + waiting
        }
        Torture.record(
            "SIGKILL of an OpenTravel pull between its commit and its acknowledgement", trials: trials,
            violations: violations,
            note: "staging and facts equal the truth; queues empty; nothing doubled; nothing acknowledged unstored")
    }
}

/// One kill per trial, at the first acknowledgement the sandbox receives while armed.
private final class KillAtAcknowledgement: Sendable {
    private struct State {
        var armed = false
        var drop = false
        var fired = false
        var child: ChildProcess?
        var unstored: [String] = []
    }
    private let state = Mutex(State())

    func arm(drop: Bool) {
        state.withLock {
            $0.armed = true
            $0.drop = drop
            $0.fired = false
            $0.child = nil
        }
    }

    func started(_ child: ChildProcess) { state.withLock { $0.child = child } }

    /// Whether to drop the acknowledgement, or nil when this one is not to kill.
    func claim() -> Bool? {
        state.withLock { s in
            guard s.armed else { return nil }
            s.armed = false
            s.fired = true
            return s.drop
        }
    }

    /// The trial's process (the acknowledgement may arrive before `started` returned).
    func child() async -> ChildProcess {
        while true {
            if let child = state.withLock({ $0.child }) { return child }
            await Task.yield()
        }
    }

    func noteUnstored(_ ids: [String]) { state.withLock { $0.unstored += ids } }
    var unstored: [String] { state.withLock { $0.unstored } }
    var fired: Bool { state.withLock { $0.fired } }
}
