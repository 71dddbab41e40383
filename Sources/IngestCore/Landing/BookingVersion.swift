import Foundation

/// A booking version read from a body: what landing needs, with the body's
/// bytes kept verbatim.
public struct BookingVersion: Sendable {
    public var confirmationId: Int
    public var propertyCode: String
    /// The data element's bytes exactly as received.
    public var data: [UInt8]
    /// The version's OTA time per the dialect: the latest changes[].date, else bookInfo.book_date.
    public var otaTime: Date?

    public init(confirmationId: Int, propertyCode: String, data: [UInt8], otaTime: Date?) {
        self.confirmationId = confirmationId
        self.propertyCode = propertyCode
        self.data = data
        self.otaTime = otaTime
    }
}
