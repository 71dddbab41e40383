import Foundation
import OTAIngest
import Testing

@testable import Receiver

/// The XML reader refuses what could make it fetch or expand, and reads the rest.
@Suite struct SafeXMLTests {
    @Test func readsElementsTextEntitiesAndCDATA() throws {
        let root = try SafeXML.parse(
            Array(#"<?xml version="1.0"?><n><id>7</id><t>a &amp; b &#233;</t><c><![CDATA[<x>]]></c><e/></n>"#.utf8))
        #expect(root.name == "n")
        #expect(root.children.map(\.name) == ["id", "t", "c", "e"])
        #expect(String(decoding: root.children[1].text, as: UTF8.self) == "a & b é")
        #expect(String(decoding: root.children[2].text, as: UTF8.self) == "<x>")
    }

    @Test(arguments: [
        #"<?xml version="1.0"?><!DOCTYPE n [<!ENTITY a "aaaa">]><n>&a;</n>"#,
        #"<!DOCTYPE n SYSTEM "file:///etc/passwd"><n/>"#,
        #"<n>&xxe;</n>"#,
        #"<n><?php echo 1; ?></n>"#,
        #"<n><a></n>"#,
        #"<n>"#,
        "",
    ])
    func refusesDeclarationsUndeclaredEntitiesAndBrokenDocuments(_ text: String) {
        #expect(throws: SafeXML.Refusal.self) { try SafeXML.parse(Array(text.utf8)) }
    }

    @Test func refusesNestingBeyondTheLimit() {
        let deep = String(repeating: "<a>", count: 100) + String(repeating: "</a>", count: 100)
        #expect(throws: SafeXML.Refusal.self) { try SafeXML.parse(Array(deep.utf8)) }
    }

    @Test func typesABookingByItsDocumentedFields() throws {
        let xml =
            "<notification><id>5</id><type>new</type><data><id>5</id><status>1</status><extras/><guest_names><item>A</item><item>B</item></guest_names>"
            + "<pricing><price>10.50</price><currency>EUR</currency></pricing><additional_fields/><remarks/><rooms><roomNo>1</roomNo></rooms></data></notification>"
        let json = String(decoding: BookingXML.json(try SafeXML.parse(Array(xml.utf8))), as: UTF8.self)
        #expect(
            json
                == #"{"id":5,"type":"new","data":{"id":5,"status":1,"extras":[],"guest_names":["A","B"],"pricing":{"price":10.50,"currency":"EUR"},"additional_fields":{},"remarks":"","rooms":[{"roomNo":1}]}}"#
        )
    }
}
