import Synchronization
import Testing

@testable import Receiver

/// The request log's text line is the line the tool's log handler writes for the same
/// message and fields (it is built without swift-log on the hot path), the duration in
/// tenths of a millisecond, rounded.
@Suite struct RequestLogLineTests {
    @Test func aRequestLineReadsAsTheHandlersLine() {
        let lines = Mutex<[String]>([])
        let log = ReceiverLog(format: .text, write: { line in lines.withLock { $0.append(line) } })
        log.request(
            method: "POST", path: "/webhooks/webhotelier", status: 200, duration: .microseconds(41_650), bytes: 185,
            property: "HTL001")
        log.request(method: "GET", path: "/healthz", status: 200, duration: .microseconds(40), bytes: 0, property: nil)
        log.run.info(
            "POST /webhooks/webhotelier 200", property: "HTL001",
            ["method": "POST", "path": "/webhooks/webhotelier", "status": "200", "duration_ms": "41.7", "bytes": "185"])
        let written = lines.withLock { $0 }
        #expect(
            written.first
                == "[info] HTL001: POST /webhooks/webhotelier 200 bytes=185 duration_ms=41.7 method=POST path=/webhooks/webhotelier status=200"
        )
        #expect(
            written.dropFirst().first
                == "[info] GET /healthz 200 bytes=0 duration_ms=0.0 method=GET path=/healthz status=200")
        #expect(written.count == 3 && written[0] == written[2], "the handler's own line for the same fields")
    }
}
