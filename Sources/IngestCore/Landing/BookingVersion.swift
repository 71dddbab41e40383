import Foundation

/// A booking version read from a body: what landing needs, with the body's
/// bytes kept verbatim.
public struct BookingVersion: Sendable {
    /// The OTA's confirmation number: WebHotelier's integer id, OpenTravel's Type-14 id.
    public var confirmationId: String
    public var propertyCode: String
    /// The data element's bytes exactly as received.
    public var data: [UInt8]
    /// The version's OTA time per the dialect: the latest changes[].date, else bookInfo.book_date.
    public var otaTime: Date?

    public init(confirmationId: String, propertyCode: String, data: [UInt8], otaTime: Date?) {
        self.confirmationId = confirmationId
        self.propertyCode = propertyCode
        self.data = data
        self.otaTime = otaTime
    }

    public init(confirmationId: Int, propertyCode: String, data: [UInt8], otaTime: Date?) {
        self.init(confirmationId: String(confirmationId), propertyCode: propertyCode, data: data, otaTime: otaTime)
    }
}
