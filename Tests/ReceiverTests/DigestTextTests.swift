import Testing

@testable import Receiver

/// Digests as text: two hex digits a byte, in order, with leading zeros.
@Suite struct DigestTextTests {
    @Test func aKnownDigestAndLeadingZerosReadAsHex() {
        #expect(
            Signatures.sha256Hex(Array("abc".utf8))
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Signatures.hex([0x00, 0x0F, 0xA0, 0xFF]) == "000fa0ff")
        #expect(Signatures.hex([0x00, 0x0F, 0xA0, 0xFF], uppercase: true) == "000FA0FF")
    }
}
