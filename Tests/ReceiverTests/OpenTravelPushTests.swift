import Foundation
import HTTPClient
import OTAIngest
import PostgresClient
import TestSupport
import Testing

/// `POST /webhooks/opentravel/{source}` against a real receiver: bare and SOAP, the
/// dialect's answers, repeats, order, and what is refused with nothing stored.
@Suite struct OpenTravelPushTests {
    static let ns = #"xmlns="http://www.opentravel.org/OTA/2003/05""#

    static func reservation(
        id: String, hotel: String = "HTL001", status: String = "Commit", modified: String = "2026-05-01T10:00:00Z",
        end: String = "2026-06-03", total: String = "180", extraRoot: String = ""
    ) -> String {
        """
        <OTA_HotelResNotifRQ \(ns) ResStatus="\(status)" EchoToken="echo-\(id)-\(modified)" TimeStamp="\(modified)"\(extraRoot)>
        <HotelReservations><HotelReservation ResStatus="\(status)" CreateDateTime="2026-05-01T10:00:00Z" LastModifyDateTime="\(modified)">
        <UniqueID Type="14" ID="\(id)"/><RoomStays><RoomStay>
        <RoomRates><RoomRate RoomTypeCode="DBL" RatePlanCode="BAR"/></RoomRates><GuestCounts><GuestCount AgeQualifyingCode="10" Count="2"/></GuestCounts>
        <TimeSpan Start="2026-06-01" End="\(end)"/><Total AmountAfterTax="\(total)" CurrencyCode="EUR"/><BasicPropertyInfo HotelCode="\(hotel)"/>
        </RoomStay></RoomStays>
        <ResGuests><ResGuest><Profiles><ProfileInfo><Profile><Customer><PersonName><GivenName>Ada</GivenName><Surname>Guest</Surname></PersonName>
        </Customer></Profile></ProfileInfo></Profiles></ResGuest></ResGuests>
        </HotelReservation></HotelReservations></OTA_HotelResNotifRQ>
        """
    }

    static func soap(_ message: String, username: String, password: String) -> String {
        """
        <?xml version="1.0" encoding="UTF-8"?>
        <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header>
        <wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">
        <wsse:UsernameToken><wsse:Username>\(username)</wsse:Username>
        <wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText">\(password)</wsse:Password>
        </wsse:UsernameToken></wsse:Security></soap:Header><soap:Body>\(message)</soap:Body></soap:Envelope>
        """
    }

    static var basic: String {
        let login = ReceiverHarness.openTravelLogin
        return "Basic " + Data("\(login.username):\(login.password)".utf8).base64EncodedString()
    }

    static func bare(_ h: ReceiverHarness, _ body: String, authorization: String = basic) async throws
        -> HTTPClientResponse
    {
        try await h.send(
            "POST", "/webhooks/opentravel/cm",
            headers: ["Content-Type": "text/xml; charset=utf-8", "Authorization": authorization], body: Array(body.utf8)
        )
    }

    static func soapPush(_ h: ReceiverHarness, _ message: String, password: String? = nil) async throws
        -> HTTPClientResponse
    {
        let login = ReceiverHarness.openTravelLogin
        return try await h.send(
            "POST", "/webhooks/opentravel/cm",
            headers: ["Content-Type": "text/xml; charset=utf-8", "SOAPAction": "\"OTA_HotelResNotifRQ\""],
            body: Array(soap(message, username: login.username, password: password ?? login.password).utf8))
    }

    /// The `<Error Type Code>` pairs of an answer.
    static func errors(_ response: HTTPClientResponse) -> [String] {
        guard let root = try? SafeXML.parse(response.body) else { return ["unreadable"] }
        func find(_ e: SafeXML.Element) -> [String] {
            if e.localName == "Error" { return ["\(e.attribute("Type") ?? "")/\(e.attribute("Code") ?? "")"] }
            return e.children.flatMap(find)
        }
        return find(root)
    }

    static func succeeded(_ response: HTTPClientResponse) -> Bool {
        response.status == 200 && response.bodyText.contains("<Success/>") && !response.bodyText.contains("<Error")
    }

    @Test func bareAndSOAPPushesAreStoredOnceAndRepeatsAreNoOpSuccesses() async throws {
        try await ReceiverHarness.with { h in
            let commit = Self.reservation(id: "CM-1")
            let first = try await Self.bare(h, commit)
            #expect(Self.succeeded(first), "\(first.bodyText)")
            #expect(first.bodyText.contains(#"<OTA_HotelResNotifRS"#))
            #expect(first.bodyText.contains(#"EchoToken="echo-CM-1-2026-05-01T10:00:00Z""#))
            let ours = first.bodyText.range(of: #"ResID_Type="14" ResID_Value="OI"#)
            #expect(ours != nil, "our number: \(first.bodyText)")
            // The raw XML verbatim, in staging only.
            let raw = try await h.strings(
                "select convert_from(raw, 'UTF8') from staging.reservation_events where source = 'cm'")
            #expect(raw == [commit])

            // A repeat and a retransmission: Success with the same number, nothing new.
            let repeated = try await Self.bare(h, commit)
            #expect(Self.succeeded(repeated) && repeated.bodyText.contains("ResID_Value=\"OI"))
            let retransmitted = try await Self.soapPush(
                h,
                Self.reservation(id: "CM-1", extraRoot: #" RetransmissionIndicator="true""#))
            #expect(Self.succeeded(retransmitted), "\(retransmitted.bodyText)")
            #expect(retransmitted.bodyText.contains("<soap:Envelope"), "a SOAP request gets a SOAP answer")
            #expect(try await h.int("select count(*)::int from staging.reservation_events where source = 'cm'") == 1)
            #expect(h.metric("opentravel", "duplicate") == 2)

            // A modification in SOAP, and a cancellation by id alone: three versions.
            let modify = Self.reservation(
                id: "CM-1", status: "Modify", modified: "2026-05-02T10:00:00Z", end: "2026-06-04", total: "270")
            #expect(Self.succeeded(try await Self.soapPush(h, modify)))
            let cancel = """
                <OTA_CancelRQ \(Self.ns) CancelType="Commit" TimeStamp="2026-05-03T10:00:00Z">
                <UniqueID Type="14" ID="CM-1"/><UniqueID Type="10" ID="HTL001"/></OTA_CancelRQ>
                """
            let cancelled = try await Self.bare(h, cancel)
            #expect(Self.succeeded(cancelled) && cancelled.bodyText.contains("<OTA_CancelRS"), "\(cancelled.bodyText)")
            // The cancellation carries the modified content, cancelled.
            let versions = try await h.strings(
                """
                select event_type || ' ' || (data->>'status') || ' ' || (data #>> '{roomStay,to}') || ' ' || (data #>> '{pricing,price}')
                from staging.reservation_events where source = 'cm' order by ota_time
                """)
            #expect(versions == ["new 1 2026-06-03 180", "update 1 2026-06-04 270", "cancel 0 2026-06-04 270"])
            // The same cancellation again is a no-op.
            #expect(Self.succeeded(try await Self.bare(h, cancel)))
            #expect(try await h.int("select count(*)::int from staging.reservation_events where source = 'cm'") == 3)
        }
    }

    /// A Modify that overtakes its Commit is stored, and the versions are ordered by
    /// LastModifyDateTime: the facts end at the latest content, whatever the arrival order.
    @Test func aModifyBeforeItsCommitIsStoredAndOrderedByModificationTime() async throws {
        try await ReceiverHarness.with { h in
            let commit = Self.reservation(id: "CM-2")
            let modify = Self.reservation(
                id: "CM-2", status: "Modify", modified: "2026-05-02T10:00:00Z", end: "2026-06-05", total: "360")
            #expect(Self.succeeded(try await Self.bare(h, modify)))
            #expect(Self.succeeded(try await Self.bare(h, commit)))
            let connection = try await h.db.connect()
            _ = try await TransformRunner().run(connection)
            await connection.close()
            let facts = try await h.strings(
                """
                select version || ' ' || lifecycle || ' ' || status || ' ' || check_out || ' ' || total_gross || ' ' || coalesce(valid_to::text, 'current')
                from facts.reservations where source = 'cm' and confirmation_id = 'CM-2' order by version
                """)
            #expect(facts.count == 2)
            #expect(facts.last?.hasPrefix("2 update confirmed 2026-06-05 360.00 current") == true, "\(facts)")
            #expect(
                try await h.int("select count(*)::int from staging.reservation_events where is_collision") == 0,
                "a late Commit is a version, not a collision")
        }
    }

    @Test func badLoginsAndUnknownHotelsGetTheDialectsErrorsAndNothingIsStored() async throws {
        try await ReceiverHarness.with { h in
            let body = Self.reservation(id: "CM-3")
            let wrongBasic = try await Self.bare(
                h, body, authorization: "Basic " + Data("cm-push:wrong".utf8).base64EncodedString())
            #expect(Self.errors(wrongBasic) == ["4/448"], "\(wrongBasic.bodyText)")
            let noLogin = try await h.send(
                "POST", "/webhooks/opentravel/cm", headers: ["Content-Type": "text/xml"], body: Array(body.utf8))
            #expect(Self.errors(noLogin) == ["4/448"])
            let wrongSOAP = try await Self.soapPush(h, body, password: "cm-secret-2")
            #expect(Self.errors(wrongSOAP) == ["4/448"] && wrongSOAP.bodyText.contains("<soap:Envelope"))
            let unknownHotel = try await Self.bare(h, Self.reservation(id: "CM-3", hotel: "NOPE"))
            #expect(Self.errors(unknownHotel) == ["6/392"], "\(unknownHotel.bodyText)")
            let unknownSource = try await h.send(
                "POST", "/webhooks/opentravel/other", headers: ["Authorization": Self.basic], body: Array(body.utf8))
            #expect(unknownSource.status == 404 && Self.errors(unknownSource) == ["6/392"])
            #expect(try await h.int("select count(*)::int from staging.reservation_events") == 0)
            #expect(try await h.int("select count(*)::int from ops.dead_letters") == 0)
            #expect(h.metric("opentravel", "unauthorized") == 3)
        }
    }

    /// Each hostile body is answered with `<Errors>` and leaves nothing anywhere; a 2 MiB
    /// OpenTravel message is fine while WebHotelier's endpoint keeps its 1 MiB limit.
    @Test func hostileXMLIsRefusedWithTheDialectsErrorAndNothingStored() async throws {
        try await ReceiverHarness.with { h in
            let valid = Self.reservation(id: "CM-4")
            let hostile: [(String, [UInt8])] = [
                (
                    "DTD",
                    Array(#"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>"#.utf8)
                        + Array(valid.utf8)
                ),
                ("entity", Array(valid.replacingOccurrences(of: "Ada", with: "&x;").utf8)),
                (
                    "deep",
                    Array(
                        valid.replacingOccurrences(
                            of: "<RoomStays>",
                            with: String(repeating: "<X>", count: 100) + String(repeating: "</X>", count: 100)
                                + "<RoomStays>"
                        ).utf8)
                ),
                (
                    "bad UTF-8",
                    Array(valid.components(separatedBy: "Ada")[0].utf8) + [0xC3, 0x28]
                        + Array(valid.components(separatedBy: "Ada")[1].utf8)
                ),
                ("namespace", Array(valid.replacingOccurrences(of: "opentravel.org", with: "example.com").utf8)),
                (
                    "root",
                    Array(valid.replacingOccurrences(of: "OTA_HotelResNotifRQ", with: "OTA_HotelAvailNotifRQ").utf8)
                ),
                ("not XML", Array(#"{"id": 1}"#.utf8)),
            ]
            for (name, body) in hostile {
                let response = try await h.send(
                    "POST", "/webhooks/opentravel/cm",
                    headers: ["Content-Type": "text/xml; charset=utf-8", "Authorization": Self.basic], body: body)
                #expect(response.status == 200 && !Self.errors(response).isEmpty, "\(name): \(response.bodyText)")
                #expect(!response.bodyText.contains("<Success"), "\(name)")
            }
            // 100 MB: refused (413 with <Errors>, or the connection closed) without being read whole.
            let huge = Array(valid.utf8) + [UInt8](repeating: 0x20, count: 100 << 20)
            if let answer = try? await h.send(
                "POST", "/webhooks/opentravel/cm",
                headers: ["Content-Type": "text/xml", "Authorization": Self.basic], body: huge)
            {
                #expect(answer.status == 413 && !Self.errors(answer).isEmpty, "\(answer.status)")
            }
            #expect(try await h.int("select count(*)::int from staging.reservation_events") == 0)
            #expect(try await h.int("select count(*)::int from ops.dead_letters") == 0)

            // Several MB is a legitimate OpenTravel message; the WebHotelier endpoint keeps 1 MiB.
            let padded = valid.replacingOccurrences(
                of: "<HotelReservations>",
                with: "<!--" + String(repeating: "x", count: 2 << 20) + "--><HotelReservations>")
            #expect(Self.succeeded(try await Self.bare(h, padded)))
            let webhotelier = try await h.send(
                "POST", "/webhooks/webhotelier",
                headers: ["Content-Type": "application/xml", "Authorization": ReceiverHarness.basicHeader],
                body: Array(padded.utf8))
            #expect(webhotelier.status == 413)
            #expect(try await h.int("select count(*)::int from staging.reservation_events") == 1)
        }
    }
}
