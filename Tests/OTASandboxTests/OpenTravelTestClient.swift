import Foundation
import OTASandbox
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The elements of an XML document, read with Foundation's parser (not the sandbox's
/// scanner), so the tests check the sandbox's XML with a reader of their own.
struct ParsedXML {
    struct Element {
        var name: String
        var namespace: String?
        var attributes: [String: String]
        var depth: Int
    }

    var elements: [Element] = []

    init?(_ data: Data) {
        let delegate = Collector()
        let parser = XMLParser(data: data)
        parser.shouldProcessNamespaces = true
        parser.delegate = delegate
        guard parser.parse() else { return nil }
        elements = delegate.elements
    }

    func all(_ name: String) -> [Element] { elements.filter { $0.name == name } }

    private final class Collector: NSObject, XMLParserDelegate {
        var elements: [Element] = []
        var depth = 0

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            elements.append(
                Element(
                    name: elementName, namespace: namespaceURI?.isEmpty == false ? namespaceURI : nil,
                    attributes: attributes, depth: depth))
            depth += 1
        }

        func parser(
            _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?
        ) {
            depth -= 1
        }
    }
}

/// A small OpenTravel pull client for the tests: token, GET a queue, acknowledge.
struct OpenTravelTestClient {
    let base: String
    var authorization: String

    init(base: String, account: OpenTravelAccount) {
        self.base = base + "/hotels/ota"
        authorization = "Basic " + Data("\(account.username):\(account.password)".utf8).base64EncodedString()
    }

    static func basic(_ account: OpenTravelAccount) -> String {
        "Basic " + Data("\(account.username):\(account.password)".utf8).base64EncodedString()
    }

    static func path(_ queue: String) -> String { queue == "new" ? "OTA_HotelResNotif" : "OTA_HotelResModifyNotif" }

    /// Switches to a Bearer token from the token endpoint.
    mutating func useToken(basic: String) async throws {
        let reply = try await TestHTTP.request("\(base)/token", method: "POST", headers: ["Authorization": basic])
        let token = try #require(reply.json?["access_token"] as? String)
        authorization = "Bearer \(token)"
    }

    /// GET a queue: status, raw body, and (id, ResStatus) per item.
    func read(_ queue: String, query: String = "") async throws -> (
        status: Int, body: Data, items: [(id: String, resStatus: String?)]
    ) {
        let reply = try await TestHTTP.request(
            "\(base)/\(Self.path(queue))\(query.isEmpty ? "" : "?" + query)", headers: ["Authorization": authorization])
        guard reply.status == 200, let xml = ParsedXML(reply.body) else { return (reply.status, reply.body, []) }
        let element = queue == "new" ? "HotelReservation" : "HotelResModify"
        var items: [(String, String?)] = []
        var status: String?
        for e in xml.elements {
            if e.name == element { status = e.attributes["ResStatus"] }
            if e.name == "HotelReservationID", let id = e.attributes["ResID_Value"] { items.append((id, status)) }
        }
        return (reply.status, reply.body, items)
    }

    /// POST the acknowledgement of `ids` (the path's `...RS` with `<Success/>`).
    func acknowledge(_ queue: String, ids: [String], success: Bool = true) async throws -> TestHTTP.Reply {
        let root = queue == "new" ? "OTA_HotelResNotifRS" : "OTA_HotelResModifyNotifRS"
        let list = queue == "new" ? "HotelReservations" : "HotelResModifies"
        let element = queue == "new" ? "HotelReservation" : "HotelResModify"
        let idXML = ids.map { "<HotelReservationID ResID_Value=\"\($0)\"/>" }.joined()
        let status = success ? "<Success/>" : "<Errors><Error Type=\"12\" Code=\"450\">db down</Error></Errors>"
        let body =
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><\(root) xmlns=\"http://www.opentravel.org/OTA/2003/05\">\(status)"
            + "<\(list)><\(element)><ResGlobalInfo><HotelReservationIDs>\(idXML)</HotelReservationIDs></ResGlobalInfo>"
            + "</\(element)></\(list)></\(root)>"
        return try await TestHTTP.request(
            "\(base)/\(Self.path(queue))", method: "POST",
            headers: ["Authorization": authorization, "Content-Type": "text/xml; charset=utf-8"], body: Data(body.utf8))
    }
}
