import Foundation

/// An OpenTravel (OTA 2003B) message as received: bare or inside a SOAP 1.1 envelope,
/// checked for the things every message must satisfy before its content is read
/// (UTF-8, no DTD or entities, bounded depth, the OTA namespace or none, a known root).
public struct OpenTravelDocument: Sendable {
    /// The message types we read reservations from.
    public enum Kind: String, Sendable, CaseIterable {
        case resNotif = "OTA_HotelResNotifRQ"
        case resModifyNotif = "OTA_HotelResModifyNotifRQ"
        case cancel = "OTA_CancelRQ"
    }

    /// Why a body is not a message we accept, and the `<Error>` Type it is answered with.
    public struct Refusal: Error, Sendable, CustomStringConvertible {
        public var reason: String
        /// OpenTravel error type: 1 unknown, 3 business rule, 4 authentication, 6 authorization,
        /// 10 required field missing, 12 processing.
        public var type: Int
        public var code: Int

        public init(_ reason: String, type: Int = 12, code: Int = 450) {
            self.reason = reason
            self.type = type
            self.code = code
        }

        public var description: String { reason }
    }

    public static let namespace = "http://www.opentravel.org/OTA/2003/05"
    static let soapNamespace = "http://schemas.xmlsoap.org/soap/envelope/"

    public var kind: Kind
    /// The OTA root element (the SOAP body's child for SOAP).
    public var root: SafeXML.Element
    /// Whether it came in a SOAP envelope (then the answer goes in one too).
    public var soap: Bool
    /// WS-Security `UsernameToken` credentials of a SOAP message.
    public var username: String?
    public var password: String?

    public var echoToken: String? { root.attribute("EchoToken") }

    /// Reads `body`; any refusal leaves nothing to store.
    public static func read(_ body: [UInt8], accepting kinds: Set<Kind> = Set(Kind.allCases)) throws -> Self {
        let opened = try Opened(body)
        let root = opened.root
        guard let kind = Kind(rawValue: String(root.localName)), kinds.contains(kind) else {
            let names = kinds.map(\.rawValue).sorted().joined(separator: ", ")
            throw Refusal("the root element \(root.localName) is not one of \(names)", type: 1, code: 450)
        }
        return Self(kind: kind, root: root, soap: opened.soap, username: opened.username, password: opened.password)
    }

    /// An OTA message as every OpenTravel push and answer comes: UTF-8 XML, bare or as the
    /// one child of a SOAP 1.1 Body (with WS-Security's UsernameToken in the Header), in
    /// OpenTravel's namespace or none. What the root is, each reader decides.
    struct Opened {
        var root: SafeXML.Element
        var soap = false
        var username: String?
        var password: String?

        init(_ body: [UInt8]) throws {
            guard String(validating: body, as: UTF8.self) != nil else {
                throw Refusal("the body is not valid UTF-8; fix: send UTF-8 XML")
            }
            let top: SafeXML.Element
            do {
                top = try SafeXML.parse(body)
            } catch let refusal as SafeXML.Refusal {
                throw Refusal("XML: \(refusal.reason)")
            }
            var scope = Namespaces()
            scope.enter(top)
            root = top
            if top.localName == "Envelope" {
                guard scope.uri(of: top) == soapNamespace else {
                    throw Refusal("Envelope is not in the SOAP 1.1 namespace \(soapNamespace)")
                }
                soap = true
                if let token = top.child("Header")?.child("Security")?.child("UsernameToken") {
                    username = token.child("Username").map { String(decoding: $0.text, as: UTF8.self) }
                    password = token.child("Password").map { String(decoding: $0.text, as: UTF8.self) }
                }
                guard let soapBody = top.child("Body") else { throw Refusal("the SOAP envelope has no Body") }
                scope.enter(soapBody)
                guard soapBody.children.count == 1 else {
                    throw Refusal("the SOAP Body must hold exactly one OTA message")
                }
                root = soapBody.children[0]
                scope.enter(root)
            }
            let namespace = scope.uri(of: root)
            guard namespace == nil || namespace == OpenTravelDocument.namespace else {
                throw Refusal(
                    "\(root.localName) is in namespace \(namespace!), not OpenTravel's \(OpenTravelDocument.namespace); fix: use that namespace or none"
                )
            }
        }
    }

    /// `xmlns` declarations in scope along one path from the top of the document.
    struct Namespaces {
        private var bindings: [String: String] = [:]

        mutating func enter(_ element: SafeXML.Element) {
            for (name, value) in element.attributes {
                if name == "xmlns" {
                    bindings[""] = value
                } else if name.hasPrefix("xmlns:") {
                    bindings[String(name.dropFirst(6))] = value
                }
            }
        }

        /// The element's namespace URI; nil for none (an empty default namespace is none).
        func uri(of element: SafeXML.Element) -> String? {
            let prefix = element.name.firstIndex(of: ":").map { String(element.name[..<$0]) } ?? ""
            guard let uri = bindings[prefix] else { return prefix.isEmpty ? nil : "undeclared prefix \(prefix)" }
            return uri.isEmpty ? nil : uri
        }
    }
}
