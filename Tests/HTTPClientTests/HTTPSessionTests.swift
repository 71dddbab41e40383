import Foundation
import HTTPClient
import HTTPTypes
import Hummingbird
import TestSupport
import Testing

/// "compressed hello " twenty times, gzipped once by Python's gzip module.
private let gzippedHello: [UInt8] = Array(
    Data(base64Encoded: "H4sIAAAAAAACA0vOzy0oSi0uTk1RyEjNyclXSB4VoFQAAK17G89UAQAA")!)

private func testRouter() -> Router<BasicRequestContext> {
    let router = Router()
    router.get("/hello") { _, _ in "hello" }
    router.get("/headers") { request, _ -> Response in
        var fields = HTTPFields()
        fields[.contentType] = "text/plain"
        fields[HTTPField.Name("X-Echo-Auth")!] = request.headers[.authorization] ?? "none"
        fields[HTTPField.Name("X-Echo-Custom")!] = request.headers[HTTPField.Name("X-Custom")!] ?? "none"
        fields[HTTPField.Name("X-Multi")!] = "one"
        return Response(status: .ok, headers: fields, body: .init(byteBuffer: ByteBuffer(string: "ok")))
    }
    router.post("/echo") { request, _ -> Response in
        let body = try await request.body.collect(upTo: 1 << 20)
        return Response(status: .created, body: .init(byteBuffer: body))
    }
    router.get("/missing") { _, _ -> Response in Response(status: .notFound) }
    router.get("/broken") { _, _ -> Response in
        Response(status: .internalServerError, body: .init(byteBuffer: ByteBuffer(string: "{\"error\":\"boom\"}")))
    }
    router.get("/slow") { _, _ -> String in
        try await Task.sleep(for: .seconds(3))
        return "late"
    }
    router.get("/gzip") { _, _ -> Response in
        var fields = HTTPFields()
        fields[.contentEncoding] = "gzip"
        return Response(status: .ok, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: gzippedHello)))
    }
    return router
}

@Suite struct HTTPSessionTests {
    @Test func getReturnsBodyAndReusesTheConnection() async throws {
        let server = try await LocalServer.start(testRouter())
        let session = HTTPSession()
        let first = try await session.send(HTTPClientRequest(url: server.baseURL + "/hello"))
        let second = try await session.send(HTTPClientRequest(url: server.baseURL + "/hello"))
        #expect(first.status == 200)
        #expect(first.bodyText == "hello")
        #expect(first.newConnections == 1)
        #expect(second.newConnections == 0, "the second request should ride the kept-alive connection")
        await server.stop()
    }

    @Test func headersAndAuthorizationTravelBothWays() async throws {
        let server = try await LocalServer.start(testRouter())
        let session = HTTPSession()
        let basic = try await session.send(
            HTTPClientRequest(
                url: server.baseURL + "/headers", headers: ["X-Custom": "ünïcode ✓"],
                authorization: .basic(username: "HTL001", password: "p:ss")))
        #expect(basic.headers["x-echo-auth"] == "Basic " + Data("HTL001:p:ss".utf8).base64EncodedString())
        #expect(basic.headers["X-ECHO-CUSTOM"] == "ünïcode ✓")
        #expect(basic.headers.values("x-multi") == ["one"])
        let bearer = try await session.send(
            HTTPClientRequest(url: server.baseURL + "/headers", authorization: .bearer(token: "t0ken")))
        #expect(bearer.headers["X-Echo-Auth"] == "Bearer t0ken")
        await server.stop()
    }

    @Test func postSendsTheBodyUnchanged() async throws {
        let server = try await LocalServer.start(testRouter())
        let session = HTTPSession()
        let payload = Array("{\"id\": 1, \"name\": \"O'Hara 🏨\"}".utf8) + [0, 255]
        let response = try await session.send(
            HTTPClientRequest(method: "POST", url: server.baseURL + "/echo", body: payload))
        #expect(response.status == 201)
        #expect(response.body == payload)
        await server.stop()
    }

    @Test func errorStatusesComeBackAsResponses() async throws {
        let server = try await LocalServer.start(testRouter())
        let session = HTTPSession()
        let missing = try await session.send(HTTPClientRequest(url: server.baseURL + "/missing"))
        #expect(missing.status == 404)
        let broken = try await session.send(HTTPClientRequest(url: server.baseURL + "/broken"))
        #expect(broken.status == 500)
        #expect(broken.bodyText == "{\"error\":\"boom\"}")
        await server.stop()
    }

    @Test func gzipBodiesAreDecoded() async throws {
        let server = try await LocalServer.start(testRouter())
        let response = try await HTTPSession().send(HTTPClientRequest(url: server.baseURL + "/gzip"))
        #expect(response.bodyText == String(repeating: "compressed hello ", count: 20))
        await server.stop()
    }

    @Test func aSlowServerTimesOut() async throws {
        let server = try await LocalServer.start(testRouter())
        let session = HTTPSession()
        let error = await #expect(throws: HTTPClientError.self) {
            try await session.send(HTTPClientRequest(url: server.baseURL + "/slow", timeout: .milliseconds(300)))
        }
        #expect(error?.kind == .timeout)
        #expect(error?.isTransient == true)
        // The session stays usable after a timeout.
        let after = try await session.send(HTTPClientRequest(url: server.baseURL + "/hello"))
        #expect(after.bodyText == "hello")
        await server.stop()
    }

    @Test func refusedConnectionNamesTheTargetAndTheFix() async throws {
        // A port bound but never listened on refuses connections for as long as it is
        // held; a stopped server's port could be taken by a parallel test's server.
        let (socket, port) = try LoopbackPort.bound()
        defer { close(socket) }
        let url = "http://127.0.0.1:\(port)/hello?token=secret"
        let error = await #expect(throws: HTTPClientError.self) {
            try await HTTPSession().send(HTTPClientRequest(url: url))
        }
        #expect(error?.kind == .connect)
        let message = error.map(String.init(describing:)) ?? ""
        #expect(message.contains("127.0.0.1"))
        #expect(message.contains("fix:"))
        #expect(!message.contains("secret"), "query strings may carry tokens and must not be echoed")
    }

    @Test func unknownHostIsADNSError() async throws {
        let error = await #expect(throws: HTTPClientError.self) {
            try await HTTPSession().send(HTTPClientRequest(url: "http://no-such-host.invalid/"))
        }
        #expect(error?.kind == .dns)
    }

    @Test func aConnectionDroppedMidBodyIsAReset() async throws {
        let reply = Array("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n{\"results\": [".utf8)
        let server = try RawServer(reply: reply)
        defer { server.stop() }
        let error = await #expect(throws: HTTPClientError.self) {
            try await HTTPSession().send(HTTPClientRequest(url: "http://127.0.0.1:\(server.port)/v2/inventory"))
        }
        #expect(error?.kind == .reset)
        #expect(error?.isTransient == true)
    }
}
