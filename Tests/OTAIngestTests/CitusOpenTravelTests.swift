import Foundation
import OTAIngest
import OTASandbox
import PostgresClient
import TestSupport
import Testing

extension CitusTests {
    /// The OpenTravel pull on a distributed warehouse: the account's queues read, landed,
    /// committed and acknowledged through the coordinator with 5xx answers (5%) and half the
    /// acknowledgements' answers lost, while the world moves; `status` reads the waiting list
    /// (a table local to the coordinator) beside distributed staging.
    @Test(
        "an OpenTravel account pulled with faults on three Citus nodes ends equal to the sandbox's truth, nothing doubled or acknowledged unstored"
    )
    func openTravelPullDistributed() async throws {
        try await CitusCluster.with { cluster in
            let w = try await Self.warehouse(url: cluster.url, distributed: true) { c in
                OpenTravelPullTests.world(&c)
                c.faults.serverErrorRate = 0.05
                c.faults.otLostAckAnswerRate = 0.5
            }
            let h = w.harness
            for _ in 0..<3 {
                w.server.advance(minutes: 120)
                try await OpenTravelPullTests.drain(h)
            }
            #expect(w.server.openTravelQueues().isEmpty, "queues not drained")
            #expect(w.server.openTravelAcks().contains { $0.answer != "sent" }, "some answers should have been lost")
            #expect(try await OpenTravelPullTests.ackedButNotStored(h).isEmpty)
            #expect(try await OpenTravelPullTests.doubled(h).isEmpty)
            let differences = try await OpenTravelPullTests.differences(h)
            #expect(differences.isEmpty, "facts vs truth: \(differences.prefix(6))")
            #expect(try await h.int("select count(*)::int from facts.reservations where source = 'bdc'") > 5)
            let connection = try await PostgresConnection.connect(cluster.url)
            let status = try await StatusReport.json(
                property: nil, openTravel: [OpenTravelPullTests.source(h)], on: connection)
            await connection.close()
            #expect(status.contains(#""opentravel": [{"source":"bdc","waiting":0"#), "\(status)")
            await w.server.stop()
        }
    }
}
