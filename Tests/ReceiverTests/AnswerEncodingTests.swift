import Foundation
import HTTPClient
import Testing

@testable import Receiver

/// Answers are JSON written by an encoder, whatever the detail quotes of the request.
@Suite struct AnswerEncodingTests {
    @Test("a plain detail is written as it is, and reads back as the same JSON an encoder writes")
    func plainAndHostileDetailsReadBackTheSame() throws {
        for detail in [
            "stored", "method not allowed; fix: POST a body (GET for a PING)", "a \"quote\"", "tab\there", "€",
        ] {
            let body = AnswerBody.encode(status: 200, detail: detail)
            let parsed = try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
            #expect(parsed?["status"] as? Int == 200)
            #expect(parsed?["detail"] as? String == detail)
            #expect(String(decoding: body, as: UTF8.self).hasPrefix(#"{"status":200,"detail":""#))
        }
        #expect(
            String(decoding: AnswerBody.encode(status: 202, detail: "a/b"), as: UTF8.self)
                == #"{"status":202,"detail":"a/b"}"#)
    }

    @Test("a refusal quoting the sender's control characters, newlines, quotes and unicode is valid JSON")
    func refusalQuotingHostileTextIsValidJSON() async throws {
        try await ReceiverHarness.with { h in
            // The refusal names the currency as sent: a newline, a tab, U+0001, a quote, a
            // backslash, a euro sign and an emoji, written as JSON escapes in the body.
            let currency = #"E\nU\t\u0001\"\\€😀"#
            let body = Array(
                #"{"event_id":"evt_x","property_id":"HTL001","rate_plan_code":"20003","room_code":"DBL","base_rate":10,"currency":"\#(currency)","effective_date":"2026-02-21","event_timestamp":"2026-01-01T10:05:00Z"}"#
                    .utf8)
            let headers: HTTPHeaders = [
                "Content-Type": "application/json",
                "X-OTA-Signature": TestSigning.hmacHex(body, secret: ReceiverHarness.hmacSecret),
            ]
            let response = try await h.send("POST", "/webhooks/ota/acme", headers: headers, body: body)
            #expect(response.status == 400)
            let parsed = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]
            #expect(parsed?["status"] as? Int == 400)
            let detail = try #require(parsed?["detail"] as? String)
            #expect(detail.contains("currency \"E\nU\t\u{1}\"\\€😀\" is not a known ISO 4217 code"), "\(detail)")
            #expect(response.bodyText.hasPrefix(#"{"status":400,"detail":"#))
        }
    }
}
