import Foundation

/// One step of the night, in the order they run.
public enum NightlyStep: Sendable, Equatable {
    case migrate
    case pull(source: String, kind: PullKind)
    case transform
    case reconcile(source: String)
    case checks
    case retention
    /// Erases the personal data of bookings that departed longer ago than the guest-data age.
    case guestDataAging

    public enum PullKind: String, Sendable {
        case reservations, rates, inventory
    }

    /// The step's name in the summary and in ops.runs ("nightly: NAME").
    public var name: String {
        switch self {
        case .migrate: "migrate"
        case .pull(let source, let kind): "pull \(kind.rawValue) \(source)"
        case .transform: "transform"
        case .reconcile(let source): "reconcile \(source)"
        case .checks: "checks"
        case .retention: "retention"
        case .guestDataAging: "guest data aging"
        }
    }

    /// The command the step's own work records in ops.runs, when it has a
    /// resumable ledger of its own (how a rerun knows the work finished
    /// before a kill took the step's row with it).
    var innerCommand: String? {
        switch self {
        case .pull, .reconcile: name
        default: nil
        }
    }

    /// Every step of a night over `config`'s sources.
    static func plan(_ config: IngestConfig) -> [NightlyStep] {
        var steps: [NightlyStep] = [.migrate]
        // A push-only OpenTravel source has nothing to pull: `serve` receives it.
        for source in config.sources where !(source.kind == .opentravel && !source.openTravel.pull) {
            steps += ConnectorRegistry.connector(for: source.kind).nightlyPulls.map {
                .pull(source: source.name, kind: $0)
            }
        }
        steps.append(.transform)
        steps += config.sources.map { .reconcile(source: $0.name) }
        steps += [.checks, .retention, .guestDataAging]
        return steps
    }
}

/// How one step ended.
public struct StepResult: Sendable {
    public var step: NightlyStep
    /// succeeded, dead_letters, failed, or skipped (a weekly step not due).
    public var status: String
    public var exitStatus: ExitStatus
    public var seconds: Double
    public var counts: [String: Int]
    public var error: String?
    /// True when an earlier, interrupted attempt of this night had finished it.
    public var fromEarlierAttempt = false
    /// What a person should look at.
    public var attention: [Attention] = []

    static func failed(_ step: NightlyStep, seconds: Double, error: String) -> StepResult {
        StepResult(
            step: step, status: "failed", exitStatus: .failure, seconds: seconds, counts: [:], error: error,
            attention: [Attention(.failedStep, "\(step.name) failed: \(error)")])
    }
}

/// One thing the morning summary puts first, in the order a person should look at them.
public struct Attention: Sendable, Comparable {
    public enum Kind: Int, Sendable {
        // Stored by number in ops.runs.attention: new kinds go last.
        case failedStep, deadLetters, breach, autoRegistered, propertiesNotPulled, setAside, openTravelWaiting
    }

    public var kind: Kind
    public var text: String

    init(_ kind: Kind, _ text: String) {
        self.kind = kind
        self.text = text
    }

    public static func < (lhs: Attention, rhs: Attention) -> Bool { lhs.kind.rawValue < rhs.kind.rawValue }
}

extension ExitStatus {
    /// The night's exit status is the worst of its steps': 1 > 4 > 3 > 0.
    var severity: Int {
        switch self {
        case .failure, .usage: 3
        case .driftBreached: 2
        case .finishedWithDeadLetters: 1
        case .success: 0
        }
    }

    static func worst(_ statuses: [ExitStatus]) -> ExitStatus {
        statuses.max { $0.severity < $1.severity } ?? .success
    }
}
