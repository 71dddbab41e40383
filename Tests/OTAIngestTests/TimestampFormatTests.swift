import Foundation
import OTAIngest
import Testing

/// `Timestamps.format` writes what PostgreSQL reads back exactly: every digit in place,
/// before and after 1970, to the microsecond.
@Suite struct TimestampFormatTests {
    @Test func digitsAreInPlaceBeforeAndAfterTheEpoch() {
        #expect(Timestamps.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000000Z")
        #expect(Timestamps.format(Date(timeIntervalSince1970: 1_773_482_400.000123)) == "2026-03-14T10:00:00.000123Z")
        #expect(Timestamps.format(Date(timeIntervalSince1970: -1.5)) == "1969-12-31T23:59:58.500000Z")
        #expect(Timestamps.format(Date(timeIntervalSince1970: 4_102_444_799)) == "2099-12-31T23:59:59.000000Z")
        #expect(Timestamps.format(Date(timeIntervalSince1970: 1_773_486_005.25)) == "2026-03-14T11:00:05.250000Z")
    }
}
