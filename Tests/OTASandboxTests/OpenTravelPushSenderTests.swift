import Foundation
import OTASandbox
import Testing

/// OpenTravel pushes: envelopes and auth, roots and statuses, the delivered rule with
/// retries and retransmissions, and the ordering and repeat faults.
@Suite struct OpenTravelPushSenderTests {
    private static let start = Date(timeIntervalSince1970: 1_767_225_600)
    private static let ota = "http://www.opentravel.org/OTA/2003/05"

    private static func busy(_ c: inout SandboxConfiguration) {
        c.propertyCount = 2
        c.activity.newBooking = 0.05
        c.activity.modification = 0.04
        c.activity.cancellation = 0.03
        c.openTravel.pushRetryIntervalMilliseconds = 2
    }

    /// The OTA document of a request (inside the SOAP body, if any).
    private static func document(_ r: WebhookReceiver.Received) -> [ParsedXML.Element] {
        guard let xml = ParsedXML(r.body) else { return [] }
        if xml.elements.first?.name == "Envelope" {
            guard let body = xml.elements.firstIndex(where: { $0.name == "Body" }) else { return [] }
            return Array(xml.elements[(body + 1)...])
        }
        return xml.elements
    }

    /// Checks that only tries after the first of an EchoToken carry the indicator; returns
    /// the number of distinct messages (-1 when a try is out of rule).
    private static func retransmissionsFollowFirstTries(_ requests: [WebhookReceiver.Received]) -> Int {
        var seen: [String: Int] = [:]
        for r in requests {
            guard let root = document(r).first, let echo = root.attributes["EchoToken"] else { return -1 }
            let retransmission = root.attributes["RetransmissionIndicator"] == "true"
            if retransmission != (seen[echo, default: 0] > 0) { return -1 }
            seen[echo, default: 0] += 1
        }
        return seen.count
    }

    @Test func bareAndSoapPushesCarryEveryVersionWithTheirAuthAndRoots() async throws {
        let receiver = OpenTravelReceiver()
        let port = try await receiver.start()
        let hook = "http://127.0.0.1:\(port)"
        func configure(_ c: inout SandboxConfiguration, prefix: String) {
            Self.busy(&c)
            c.webhooks = [
                WebhookRegistration(mode: .opentravel, url: "\(hook)\(prefix)/bare", username: "cm", password: "pw"),
                WebhookRegistration(
                    mode: .opentravel, url: "\(hook)\(prefix)/soap", username: "sm", password: "p&w", envelope: .soap,
                    messages: .split),
            ]
        }
        // The same seed again: the same bytes, message for message.
        try await withSandbox({ configure(&$0, prefix: "/again") }) { server, _ in
            server.advance(minutes: 240)
            await server.waitForOpenTravelPushes()
        }
        try await withSandbox({ configure(&$0, prefix: "") }) { server, _ in
            server.advance(minutes: 240)
            await server.waitForOpenTravelPushes()
            let versions = server.openTravelReservations().filter { $0.validFrom > Self.start }
            #expect(versions.count > 10)
            #expect(versions.contains { $0.rooms.count == 2 })
            let received = await receiver.requests
            for path in ["/bare", "/soap"] {
                let first = received.filter { $0.path == "/again" + path }.map(\.body)
                #expect(!first.isEmpty && first == received.filter { $0.path == path }.map(\.body))
            }
            let pushes = server.openTravelPushes()
            #expect(pushes.allSatisfy { $0.outcome == .delivered && $0.attempts.count == 1 })

            for (path, registration) in [("/bare", 1), ("/soap", 2)] {
                let requests = received.filter { $0.path == path }
                #expect(requests.count == versions.count)
                let docs = requests.map(Self.document)
                let roots = docs.map { $0.first!.attributes }
                #expect(roots.map { Int($0["SequenceNmbr"] ?? "") } == Array(1...requests.count).map { Optional($0) })
                #expect(Set(roots.compactMap { $0["EchoToken"] }).count == requests.count)
                #expect(docs.allSatisfy { $0.allSatisfy { $0.namespace == Self.ota } })
                #expect(docs.allSatisfy { $0.first?.attributes["RetransmissionIndicator"] == nil })
                // Each version arrives once, under its root and status.
                let sent = pushes.filter { $0.registration == registration }
                #expect(sent.count == versions.count)
                #expect(
                    Set(sent.map { "\($0.reservation)/\($0.version)" })
                        == Set(versions.map { "\($0.id)/\($0.version)" }))
                for (doc, push) in zip(docs, sent) {
                    #expect(doc.first?.name == push.root)
                    let id =
                        doc.first { $0.name == "UniqueID" && $0.attributes["Type"] == "14" }?.attributes["ID"]
                    #expect(id == push.reservation)
                    let word = [
                        "created": "Commit", "modified": "Modify", "restored": "Modify", "cancelled": "Cancel",
                    ][
                        push.event.rawValue]
                    switch (registration, push.event) {
                    case (2, .cancelled):
                        #expect(push.root == "OTA_CancelRQ" && doc.first?.attributes["CancelType"] == "Commit")
                        #expect(doc.contains { $0.name == "UniqueID" && $0.attributes["Type"] == "10" })
                    case (2, .modified), (2, .restored):
                        #expect(push.root == "OTA_HotelResModifyNotifRQ")
                        #expect(doc.first { $0.name == "HotelResModify" }?.attributes["ResStatus"] == "Modify")
                    default:
                        #expect(push.root == "OTA_HotelResNotifRQ" && doc.first?.attributes["ResStatus"] == word)
                        #expect(doc.first { $0.name == "HotelReservation" }?.attributes["ResStatus"] == word)
                    }
                }
            }
            let auth = "Basic " + Data("cm:pw".utf8).base64EncodedString()
            for r in received.filter({ $0.path == "/bare" }) {
                #expect(r.headers["authorization"] == auth && r.headers["soapaction"] == nil)
                #expect(r.headers["content-type"] == "text/xml; charset=utf-8")
            }
            for r in received.filter({ $0.path == "/soap" }) {
                let xml = try #require(ParsedXML(r.body))
                #expect(r.headers["authorization"] == nil)
                #expect(r.headers["soapaction"] == "\"\(Self.document(r).first?.name ?? "")\"")
                let password = try #require(xml.all("Password").first)
                #expect(password.attributes["Type"]?.hasSuffix("#PasswordText") == true)
                #expect(String(decoding: r.body, as: UTF8.self).contains(">sm</wsse:Username><wsse:Password"))
                #expect(String(decoding: r.body, as: UTF8.self).contains(">p&amp;w</wsse:Password>"))
            }
        }
        await receiver.stop()
    }

    @Test func onlySuccessWithoutErrorsIsDeliveredAndRetriesAreRetransmissions() async throws {
        // /flaky: 200 with <Errors> twice, then <Success/>. /empty: 200 without <Success/>.
        // /mixed: 200 with both <Success/> and an <Error>.
        let receiver = OpenTravelReceiver { path, count in
            switch path {
            case "/flaky": return (200, count == 3 ? OpenTravelReceiver.success : OpenTravelReceiver.failure)
            case "/empty": return (200, "")
            default:
                return (
                    200,
                    "<OTA_HotelResNotifRS><Success/><Errors><Error Type=\"12\">no</Error></Errors></OTA_HotelResNotifRS>"
                )
            }
        }
        let port = try await receiver.start()
        let hook = "http://127.0.0.1:\(port)"
        try await withSandbox({
            Self.busy(&$0)
            $0.propertyCount = 3
            $0.openTravel.pushMaxAttempts = 4
            $0.webhooks = [
                WebhookRegistration(property: "HTL001", mode: .opentravel, url: "\(hook)/flaky"),
                WebhookRegistration(property: "HTL002", mode: .opentravel, url: "\(hook)/empty"),
                WebhookRegistration(property: "HTL003", mode: .opentravel, url: "\(hook)/mixed", envelope: .soap),
            ]
        }) { server, _ in
            server.advance(minutes: 60)
            await server.waitForOpenTravelPushes()
            let pushes = server.openTravelPushes()
            let flaky = pushes.filter { $0.registration == 1 }
            #expect(!flaky.isEmpty)
            #expect(flaky.allSatisfy { $0.outcome == .delivered })
            #expect(flaky.allSatisfy { $0.attempts.map(\.delivered) == [false, false, true] })
            for registration in [2, 3] {
                let failed = pushes.filter { $0.registration == registration }
                #expect(!failed.isEmpty)
                #expect(failed.allSatisfy { $0.outcome == .failed && $0.attempts.count == 4 })
                #expect(failed.allSatisfy { $0.attempts.allSatisfy { $0.status == 200 && !$0.delivered } })
            }
            // Every retry carries RetransmissionIndicator="true" and the first try's EchoToken.
            let received = await receiver.requests
            for (path, registration) in [("/flaky", 1), ("/empty", 2), ("/mixed", 3)] {
                let messages = Self.retransmissionsFollowFirstTries(received.filter { $0.path == path })
                #expect(messages == pushes.filter { $0.registration == registration }.count)
            }
        }
        await receiver.stop()
    }

    @Test func aPushNotAnsweredInTimeIsRetried() async throws {
        let receiver = OpenTravelReceiver()
        let port = try await receiver.start()
        try await withSandbox({
            Self.busy(&$0)
            $0.openTravel.pushTimeoutSeconds = 2
            $0.webhooks = [
                WebhookRegistration(property: "HTL001", mode: .opentravel, url: "http://127.0.0.1:\(port)/slow")
            ]
        }) { server, _ in
            // Until the first booking change of HTL001: one or two pushes, each waiting out a timeout.
            for _ in 0..<240 where server.openTravelPushes().isEmpty { server.advance(minutes: 1) }
            await server.waitForOpenTravelPushes()
            let pushes = server.openTravelPushes()
            #expect(!pushes.isEmpty)
            // The first try is held until its retry arrives, so it ends by the timeout; on a
            // loaded machine a retry's answer may take longer than the timeout too, so more
            // than one try may time out before one is delivered.
            for push in pushes {
                #expect(push.outcome == .delivered && push.attempts.count >= 2, "\(push.attempts)")
                #expect(push.attempts.dropLast().allSatisfy { $0.status == nil && $0.error != nil })
                #expect(push.attempts.last.map { $0.delivered && $0.retransmission } == true)
            }
        }
        await receiver.stop()
    }

    @Test func repeatsShuffledOrderEarlyChangesAndStatusClashes() async throws {
        let receiver = OpenTravelReceiver()
        let port = try await receiver.start()
        try await withSandbox({
            Self.busy(&$0)
            $0.faults.otPushRepeatRate = 1
            $0.faults.otPushShuffleRate = 0.3
            $0.faults.otPushEarlyChangeRate = 1
            $0.faults.otPushStatusClashRate = 1
            $0.faults.otNoNamespaceRate = 0.5
            $0.webhooks = [WebhookRegistration(mode: .opentravel, url: "http://127.0.0.1:\(port)/in")]
        }) { server, _ in
            server.advance(minutes: 480)
            await server.waitForOpenTravelPushes()
            let pushes = server.openTravelPushes()
            let originals = pushes.filter { !$0.isRepeat }
            let repeats = pushes.filter(\.isRepeat)
            #expect(repeats.count == originals.count)
            #expect(repeats.contains(where: \.retransmissionRepeat) && repeats.contains { !$0.retransmissionRepeat })
            let received = await receiver.requests.map(Self.document)
            #expect(received.count == pushes.count)
            // A repeat carries its original's EchoToken and SequenceNmbr.
            for r in repeats {
                #expect(originals.contains { $0.echoToken == r.echoToken && $0.sequence == r.sequence })
            }
            let indicators = received.filter { $0.first?.attributes["RetransmissionIndicator"] == "true" }.count
            #expect(indicators == repeats.filter(\.retransmissionRepeat).count)
            // Sender order (SequenceNmbr) is not arrival order.
            let sequences = originals.map(\.sequence)
            #expect(sequences != sequences.sorted())
            // A Modify/Cancel before its Commit: the early one arrives first.
            let early = originals.filter(\.early)
            #expect(!early.isEmpty)
            for e in early {
                let commit = try #require(originals.first { $0.reservation == e.reservation && $0.event == .created })
                #expect(commit.id > e.id && commit.sequence < e.sequence)
            }
            // Root and inner status differ, and the inner one is right.
            let inner = ["created": "Reserved", "modified": "Modify", "restored": "Modify", "cancelled": "Cancelled"]
            #expect(originals.allSatisfy { $0.resStatus != $0.innerResStatus })
            #expect(originals.allSatisfy { $0.innerResStatus == inner[$0.event.rawValue] })
            let bare = received.filter { $0.first?.namespace == nil }.count
            #expect(bare > 0 && bare < received.count)
        }
        await receiver.stop()
    }
}
