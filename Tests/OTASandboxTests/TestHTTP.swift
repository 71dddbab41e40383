import Foundation
import OTASandbox

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A plain HTTP client for the tests: real sockets, no mocks.
struct TestHTTP {
    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: Data

        var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] }
        var data: [String: Any]? { json?["data"] as? [String: Any] }
    }

    static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        return URLSession(configuration: configuration)
    }()

    static func request(
        _ url: String, method: String = "GET", headers: [String: String] = [:], body: Data? = nil
    ) async throws -> Reply {
        var r = URLRequest(url: URL(string: url)!)
        r.httpMethod = method
        for (k, v) in headers { r.setValue(v, forHTTPHeaderField: k) }
        r.httpBody = body
        let (data, response) = try await session.data(for: r)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (k, v) in http.allHeaderFields { fields[String(describing: k).lowercased()] = String(describing: v) }
        return Reply(status: http.statusCode, headers: fields, body: data)
    }

    static func basic(_ account: PropertyAccount) -> [String: String] {
        ["Authorization": "Basic " + Data("\(account.username):\(account.password)".utf8).base64EncodedString()]
    }
}

/// Runs `body` against a fresh sandbox on a random port and always stops it.
func withSandbox<T>(
    _ configure: (inout SandboxConfiguration) -> Void = { _ in },
    _ body: (SandboxServer, String) async throws -> T
) async throws -> T {
    var configuration = SandboxConfiguration()
    configuration.minimumPendingIntervalMinutes = 0
    configure(&configuration)
    let server = try SandboxServer(configuration: configuration)
    let port = try await server.start()
    do {
        let result = try await body(server, "http://127.0.0.1:\(port)")
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}
