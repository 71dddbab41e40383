import Foundation
import Testing

@testable import OTAIngest

/// The OpenTravel field map on the dialect's own examples and on the shapes senders use:
/// each message read into the warehouse's booking body, golden.
@Suite struct OpenTravelReservationTests {
    static let ns = #"xmlns="http://www.opentravel.org/OTA/2003/05""#

    /// Example 2 of the dialect (a push), as written there.
    static let example2 = """
        <OTA_HotelResNotifRQ \(ns)>
        <HotelReservations><HotelReservation ResStatus="Commit"><UniqueID Type="14" ID="CM-7"/><RoomStays><RoomStay>
        <RoomRates><RoomRate RoomTypeCode="DBL" RatePlanCode="BAR"/></RoomRates><GuestCounts><GuestCount AgeQualifyingCode="10" Count="2"/></GuestCounts>
        <TimeSpan Start="2025-06-01" End="2025-06-03"/><Total AmountAfterTax="180" CurrencyCode="EUR"/><BasicPropertyInfo HotelCode="H1"/>
        </RoomStay></RoomStays></HotelReservation></HotelReservations></OTA_HotelResNotifRQ>
        """

    static func only(
        _ xml: String, origin: OpenTravelReservation.Origin? = nil, source: String = "cm"
    ) throws -> OpenTravelReservation {
        let document = try OpenTravelDocument.read(Array(xml.utf8))
        let items = OpenTravelReservation.all(in: document, origin: origin ?? .push(document.kind), sourceName: source)
        #expect(items.count == 1)
        return try items[0].result.get()
    }

    static func text(_ reservation: OpenTravelReservation) -> String {
        String(decoding: reservation.version.data, as: UTF8.self)
    }

    /// Example 1 of the dialect (an acknowledgement) is what the pull sends: the same elements
    /// and ids, in the OTA namespace; the modify queue's has its own root and list.
    @Test func acknowledgementsAreExample1() throws {
        let example1 = """
            <OTA_HotelResNotifRS \(Self.ns)><Success/>
            <HotelReservations><HotelReservation><ResGlobalInfo><HotelReservationIDs><HotelReservationID ResID_Value="4001"/>
            </HotelReservationIDs></ResGlobalInfo></HotelReservation></HotelReservations></OTA_HotelResNotifRS>
            """
        /// Element paths with their attributes, namespace and version aside.
        func shape(_ xml: String) throws -> [String] {
            func walk(_ e: SafeXML.Element, _ path: String) -> [String] {
                let here = path + "/" + e.localName
                let attributes = e.attributes.filter { $0.name != "xmlns" && $0.name != "Version" }
                    .map { "@\($0.name)=\($0.value)" }
                return [here + attributes.joined()] + e.children.flatMap { walk($0, here) }
            }
            return walk(try SafeXML.parse(Array(xml.utf8)), "")
        }
        let ours = OpenTravelClient.acknowledgementBody(["4001"], queue: .new)
        #expect(try shape(ours) == shape(example1))
        #expect(ours.contains(Self.ns))
        let modify = try shape(OpenTravelClient.acknowledgementBody(["4001", "4002"], queue: .modify))
        #expect(
            modify.filter { $0.contains("HotelReservationID@") }
                == [
                    "/OTA_HotelResModifyNotifRS/HotelResModifies/HotelResModify/ResGlobalInfo/HotelReservationIDs/HotelReservationID@ResID_Value=4001",
                    "/OTA_HotelResModifyNotifRS/HotelResModifies/HotelResModify/ResGlobalInfo/HotelReservationIDs/HotelReservationID@ResID_Value=4002",
                ])
    }

    @Test func example2IsReadByTheFieldMap() throws {
        let r = try Self.only(Self.example2)
        #expect(r.version.confirmationId == "CM-7")
        #expect(r.version.propertyCode == "H1")
        #expect(r.eventType == "new")
        #expect(!r.cancelOnly)
        // Two nights, the room's 180 spread over them; no POS: the source's name is the channel.
        #expect(
            Self.text(r)
                == #"{"id":"CM-7","property":"H1","status":1,"roomStay":{"from":"2025-06-01","to":"2025-06-03","roomType":"DBL","rateID":"BAR","rooms":1},"bookInfo":{"source":"cm"},"pricing":{"price":180,"currency":"EUR"},"rooms":[{"roomNo":1,"roomType":"DBL","rateID":"BAR","from":"2025-06-01","to":"2025-06-03","adults":2,"children":0,"price":null,"price_with_tax":180,"rates":[{"date":"2025-06-01","price_with_tax":90},{"date":"2025-06-02","price_with_tax":90}]}]}"#
        )
    }

    /// RateGain's sample: a new booking whose inner status says Cancel under a Commit root.
    @Test func cancelOnANewBookingIsCancelledTheInnerStatusWins() throws {
        let xml = Self.example2.replacingOccurrences(
            of: #"<HotelReservations><HotelReservation ResStatus="Commit">"#,
            with: #"<HotelReservations><HotelReservation ResStatus="Cancel">"#
        ).replacingOccurrences(
            of: "<OTA_HotelResNotifRQ \(Self.ns)>", with: #"<OTA_HotelResNotifRQ \#(Self.ns) ResStatus="Commit">"#)
        let r = try Self.only(xml)
        #expect(r.eventType == "cancel")
        #expect(Self.text(r).contains(#""status":0"#))
        #expect(!r.cancelOnly, "it carries the booking's content")
        // Only the status differs from the confirmed version.
        let confirmed = try Self.only(Self.example2)
        #expect(Self.text(r).replacingOccurrences(of: #""status":0"#, with: #""status":1"#) == Self.text(confirmed))
    }

    /// The same version as a pull serves it (no TimeSpan, a RoomRate per night, the id as
    /// ResID_Value, the queue's root) and as a push sends it (TimeSpan, one Rate over a run
    /// of nights, UniqueID, SOAP): one body, so one content hash.
    @Test func pulledAndPushedVersionsOfOneReservationAreOneBody() throws {
        let stay = """
            <GuestCounts><GuestCount AgeQualifyingCode="10" Count="2"/><GuestCount AgeQualifyingCode="8" Count="1"/></GuestCounts>
            <Total AmountAfterTax="300.50" AmountBeforeTax="270.00" CurrencyCode="EUR"/><BasicPropertyInfo HotelCode="HTL001"/>
            """
        let guest = """
            <ResGuests><ResGuest><Profiles><ProfileInfo><Profile><Customer><PersonName><GivenName>Maria</GivenName>
            <Surname>Rossi</Surname></PersonName><Email>m@example.com</Email></Customer></Profile></ProfileInfo></Profiles></ResGuest></ResGuests>
            """
        let pos =
            #"<POS><Source><BookingChannel Type="7"><CompanyName Code="Booking.com"/></BookingChannel></Source></POS>"#
        let pulled = """
            <?xml version="1.0" encoding="UTF-8"?>
            <OTA_HotelResModifyNotifRQ \(Self.ns) TimeStamp="2026-01-01T06:00:00Z"><HotelResModifies>
            <HotelResModify ResStatus="Modify" CreateDateTime="2026-01-01T05:02:11Z" LastModifyDateTime="2026-01-02T07:00:00Z">\(pos)
            <RoomStays><RoomStay><RoomRates>
            <RoomRate EffectiveDate="2026-01-20" RoomTypeCode="DBL" RatePlanCode="20003"><Rates><Rate><Base AmountAfterTax="100.25" CurrencyCode="EUR"/></Rate></Rates></RoomRate>
            <RoomRate EffectiveDate="2026-01-21" RoomTypeCode="DBL" RatePlanCode="20003"><Rates><Rate><Base AmountAfterTax="100.25" CurrencyCode="EUR"/></Rate></Rates></RoomRate>
            <RoomRate EffectiveDate="2026-01-22" RoomTypeCode="DBL" RatePlanCode="20003"><Rates><Rate><Base AmountAfterTax="100.00" CurrencyCode="EUR"/></Rate></Rates></RoomRate>
            </RoomRates>\(stay)</RoomStay></RoomStays>\(guest)
            <ResGlobalInfo><HotelReservationIDs><HotelReservationID ResID_Value="1000041" ResID_Date="2026-01-01T05:02:11Z"/></HotelReservationIDs>
            <Total AmountAfterTax="300.50" CurrencyCode="EUR"/></ResGlobalInfo></HotelResModify></HotelResModifies></OTA_HotelResModifyNotifRQ>
            """
        let pushed = """
            <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header>
            <wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">
            <wsse:UsernameToken><wsse:Username>cm</wsse:Username><wsse:Password>pw</wsse:Password></wsse:UsernameToken></wsse:Security>
            </soap:Header><soap:Body>
            <OTA_HotelResNotifRQ \(Self.ns) ResStatus="Modify" EchoToken="e-1" TimeStamp="2026-01-02T07:00:00Z" SequenceNmbr="4">\(pos)
            <HotelReservations><HotelReservation ResStatus="Modify" CreateDateTime="2026-01-01T05:02:11.000Z" LastModifyDateTime="2026-01-02T07:00:00Z">
            <UniqueID Type="14" ID="1000041"/><RoomStays><RoomStay><RoomRates><RoomRate RoomTypeCode="DBL" RatePlanCode="20003"><Rates>
            <Rate EffectiveDate="2026-01-20" ExpireDate="2026-01-22"><Base AmountAfterTax="100.25" CurrencyCode="EUR"/></Rate>
            <Rate EffectiveDate="2026-01-22" ExpireDate="2026-01-23"><Base AmountAfterTax="100" CurrencyCode="EUR"/></Rate>
            </Rates></RoomRate></RoomRates><TimeSpan Start="2026-01-20" End="2026-01-23"/>\(stay)</RoomStay></RoomStays>\(guest)
            </HotelReservation></HotelReservations></OTA_HotelResNotifRQ></soap:Body></soap:Envelope>
            """
        let pull = try Self.only(pulled, origin: .modifyQueue, source: "bdc")
        let document = try OpenTravelDocument.read(Array(pushed.utf8))
        #expect(document.soap && document.username == "cm" && document.password == "pw")
        #expect(document.echoToken == "e-1")
        let push = try Self.only(pushed, source: "bdc")
        #expect(pull.version.confirmationId == "1000041" && push.version.confirmationId == "1000041")
        #expect(pull.eventType == "update" && push.eventType == "update")
        #expect(Self.text(pull) == Self.text(push))
        #expect(pull.version.otaTime == push.version.otaTime)
        #expect(pull.version.otaTime == Timestamps.parse("2026-01-02T07:00:00Z"))
        #expect(
            Self.text(pull)
                == #"{"id":"1000041","property":"HTL001","status":1,"modified":"2026-01-02T07:00:00.000000Z","roomStay":{"from":"2026-01-20","to":"2026-01-23","roomType":"DBL","rateID":"20003","rooms":1},"bookInfo":{"book_date":"2026-01-01T05:02:11.000000Z","source":"Booking.com"},"pricing":{"price":300.5,"currency":"EUR"},"rooms":[{"roomNo":1,"roomType":"DBL","rateID":"20003","from":"2026-01-20","to":"2026-01-23","adults":2,"children":1,"price":270,"price_with_tax":300.5,"rates":[{"date":"2026-01-20","price_with_tax":100.25},{"date":"2026-01-21","price_with_tax":100.25},{"date":"2026-01-22","price_with_tax":100}]}],"clientInfo":{"firstName":"Maria","lastName":"Rossi","email":"m@example.com"}}"#
        )
    }

    /// Two room stays: adults, children and total are sums; room type and rate plan the first's;
    /// each room keeps its own nights; the stay spans both.
    @Test func multiRoomReservationsSumTheirRooms() throws {
        let xml = """
            <OTA_HotelResNotifRQ><POS><Source><RequestorID ID="SM" Type="22"/></Source></POS><HotelReservations>
            <HotelReservation><UniqueID Type="14" ID="R9"/><RoomStays>
            <RoomStay><RoomRates><RoomRate RoomTypeCode="DBL" RatePlanCode="BAR"/></RoomRates>
            <GuestCounts><GuestCount AgeQualifyingCode="10" Count="2"/></GuestCounts>
            <TimeSpan Start="2025-06-01" End="2025-06-04"/><Total AmountAfterTax="100.00" CurrencyCode="EUR"/><BasicPropertyInfo HotelCode="H1"/></RoomStay>
            <RoomStay><RoomTypes><RoomType RoomTypeCode="SGL"/></RoomTypes><RatePlans><RatePlan RatePlanCode="NR"/></RatePlans>
            <GuestCounts><GuestCount AgeQualifyingCode="10" Count="1"/><GuestCount AgeQualifyingCode="8" Count="2"/></GuestCounts>
            <TimeSpan Start="2025-06-02" End="2025-06-05"/><Total AmountAfterTax="60" CurrencyCode="EUR"/><BasicPropertyInfo HotelCode="H1"/></RoomStay>
            </RoomStays></HotelReservation></HotelReservations></OTA_HotelResNotifRQ>
            """
        let r = try Self.only(xml)
        let body = Self.text(r)
        #expect(
            body.contains(
                #""roomStay":{"from":"2025-06-01","to":"2025-06-05","roomType":"DBL","rateID":"BAR","rooms":2}"#))
        #expect(body.contains(#""pricing":{"price":160,"currency":"EUR"}"#))
        #expect(body.contains(#""bookInfo":{"source":"SM"}"#), "RequestorID when no BookingChannel")
        // 100 over three nights: 33.33 + 33.34 + 33.33, adding up exactly.
        #expect(
            body.contains(
                #""rates":[{"date":"2025-06-01","price_with_tax":33.33},{"date":"2025-06-02","price_with_tax":33.34},{"date":"2025-06-03","price_with_tax":33.33}]"#
            ))
        #expect(
            body.contains(
                #""roomNo":2,"roomType":"SGL","rateID":"NR","from":"2025-06-02","to":"2025-06-05","adults":1,"children":2"#
            ))
    }

    /// RateGain's rates: `ExpireDate` the next day is one night; an Expire not after Effective is one night too;
    /// nights outside the stay are clamped away.
    @Test func rateNightsFollowTheDialectsRule() throws {
        let xml = """
            <OTA_HotelResNotifRQ><HotelReservations><HotelReservation><UniqueID Type="14" ID="N1"/><RoomStays><RoomStay>
            <RoomRates><RoomRate RoomTypeCode="DBL" RatePlanCode="BAR"><Rates>
            <Rate EffectiveDate="2025-05-30" ExpireDate="2025-06-02"><Base AmountAfterTax="50" CurrencyCode="EUR"/></Rate>
            <Rate EffectiveDate="2025-06-02" ExpireDate="2025-06-02"><Base AmountAfterTax="70" CurrencyCode="EUR"/></Rate>
            </Rates></RoomRate></RoomRates>
            <TimeSpan Start="2025-06-01" End="2025-06-03"/><BasicPropertyInfo HotelCode="H1"/></RoomStay></RoomStays>
            </HotelReservation></HotelReservations></OTA_HotelResNotifRQ>
            """
        let body = Self.text(try Self.only(xml))
        #expect(
            body.contains(
                #""price_with_tax":120,"rates":[{"date":"2025-06-01","price_with_tax":50},{"date":"2025-06-02","price_with_tax":70}]"#
            ), "\(body)")
    }

    /// An `OTA_CancelRQ` names the reservation only: cancelled, content taken from the stored version.
    @Test func aCancelRequestIsACancellationByIdAlone() throws {
        let xml = """
            <OTA_CancelRQ \(Self.ns) CancelType="Commit" TimeStamp="2026-01-03T08:00:00Z">
            <UniqueID Type="14" ID="1000041"/><UniqueID Type="10" ID="HTL001"/></OTA_CancelRQ>
            """
        let r = try Self.only(xml)
        #expect(r.eventType == "cancel" && r.cancelOnly)
        #expect(r.version.propertyCode == "HTL001" && r.version.confirmationId == "1000041")
        #expect(r.version.otaTime == Timestamps.parse("2026-01-03T08:00:00Z"))
        #expect(
            Self.text(r) == #"{"id":"1000041","property":"HTL001","status":0,"modified":"2026-01-03T08:00:00.000000Z"}"#
        )
    }

    @Test func refusalsNameTheFieldAndTheDialectsErrorType() throws {
        func refusal(_ xml: String) throws -> OpenTravelDocument.Refusal? {
            let document = try OpenTravelDocument.read(Array(xml.utf8))
            let items = OpenTravelReservation.all(in: document, origin: .push(document.kind), sourceName: "cm")
            if case .failure(let refusal) = items.first?.result { return refusal }
            return nil
        }
        let noId = try refusal(Self.example2.replacingOccurrences(of: #"<UniqueID Type="14" ID="CM-7"/>"#, with: ""))
        #expect(noId?.type == 10 && noId?.reason.contains("UniqueID") == true)
        let badCurrency = try refusal(Self.example2.replacingOccurrences(of: "EUR", with: "EUX"))
        #expect(badCurrency?.type == 3 && badCurrency?.reason.contains("EUX") == true)
        let backwards = try refusal(Self.example2.replacingOccurrences(of: "2025-06-03", with: "2025-05-30"))
        #expect(backwards?.reason.contains("not after") == true)
        let badAmount = try refusal(
            Self.example2.replacingOccurrences(of: #"AmountAfterTax="180""#, with: #"AmountAfterTax="1e3""#))
        #expect(badAmount?.reason.contains("not an amount") == true)
    }

    /// Hostile or foreign documents are refused before any reservation is read.
    @Test func hostileAndForeignDocumentsAreRefused() {
        let cases: [(String, [UInt8])] = [
            ("DTD", Array(#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><OTA_HotelResNotifRQ/>"#.utf8)),
            ("entity", Array("<OTA_HotelResNotifRQ>&xxe;</OTA_HotelResNotifRQ>".utf8)),
            ("bad UTF-8", Array("<OTA_HotelResNotifRQ>".utf8) + [0xC3, 0x28] + Array("</OTA_HotelResNotifRQ>".utf8)),
            ("deep", Array((String(repeating: "<a>", count: 200) + String(repeating: "</a>", count: 200)).utf8)),
            ("namespace", Array(#"<OTA_HotelResNotifRQ xmlns="http://example.com/other"/>"#.utf8)),
            ("root", Array("<OTA_HotelAvailNotifRQ \(Self.ns)/>".utf8)),
            (
                "SOAP 1.2",
                Array(#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>"#.utf8)
            ),
        ]
        for (name, body) in cases {
            #expect(throws: OpenTravelDocument.Refusal.self, "\(name)") { try OpenTravelDocument.read(body) }
        }
    }
}
