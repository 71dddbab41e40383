import CCurl
import DedicatedThread
import Foundation

/// An HTTP client session over one reused libcurl easy handle.
///
/// Reusing the handle keeps connections alive between requests (keep-alive),
/// along with libcurl's DNS cache. The actor runs on its own thread because
/// `curl_easy_perform` blocks; a handle is thus only ever used by one thread.
public actor HTTPSession {
    private let executor: ThreadExecutor
    /// Touched only on the actor's thread, and by deinit once no one else can.
    private nonisolated(unsafe) let handle: UnsafeMutableRawPointer
    private let configuration: HTTPSessionConfiguration

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    public init(configuration: HTTPSessionConfiguration = HTTPSessionConfiguration()) {
        CurlGlobal.ensureInitialized()
        self.configuration = configuration
        self.executor = ThreadExecutor(name: "ota-http")
        guard let handle = curl_easy_init() else {
            fatalError("libcurl could not allocate an easy handle (out of memory)")
        }
        self.handle = handle
    }

    // Not `isolated deinit`: Swift 6.3.1 fails optimized builds of modules using this
    // actor with "error: circular reference" (an ActorIsolationRequest cycle on the
    // deinit in the SIL pipeline). The last reference is gone when deinit runs, so no
    // job can be using the handle, and shutdown() only signals the thread.
    deinit {
        curl_easy_cleanup(handle)
        executor.shutdown()
    }

    /// Performs the request and returns the response, whatever its status.
    /// Throws `HTTPClientError` only when no response came back.
    public func send(_ request: HTTPClientRequest) throws -> HTTPClientResponse {
        // Every libcurl call on the handle starts here: a cheap check, in debug builds, that it is on our thread.
        assert(executor.isCurrentThread, "libcurl call off the session's thread")
        curl_easy_reset(handle)
        let collector = ResponseCollector()
        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(headerList) }
        let timeout = request.timeout ?? configuration.requestTimeout

        func fail(_ code: CURLcode) -> HTTPClientError {
            HTTPClientError(
                kind: .invalidRequest, method: request.method, url: request.url,
                reason: "libcurl refused an option: \(String(cString: curl_easy_strerror(code)))")
        }
        func check(_ code: CURLcode) throws {
            if code != CURLE_OK { throw fail(code) }
        }

        try check(ota_curl_setopt_string(handle, CURLOPT_URL, request.url))
        try check(ota_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        try check(ota_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, configuration.connectTimeout.milliseconds))
        try check(ota_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeout.milliseconds))
        try check(ota_curl_setopt_string(handle, CURLOPT_USERAGENT, configuration.userAgent))
        // An empty string asks for every encoding this libcurl can decode (gzip, deflate, br).
        try check(ota_curl_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, ""))
        try check(ota_curl_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1))

        switch request.method {
        case "GET":
            try check(ota_curl_setopt_long(handle, CURLOPT_HTTPGET, 1))
        case "HEAD":
            try check(ota_curl_setopt_long(handle, CURLOPT_NOBODY, 1))
        case "POST":
            try check(ota_curl_setopt_long(handle, CURLOPT_POST, 1))
        default:
            try check(ota_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method))
        }
        if let body = request.body {
            try check(ota_curl_setopt_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
            // COPYPOSTFIELDS copies the bytes, so nothing here has to outlive the call.
            try body.withUnsafeBytes { raw in
                let base = raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
                try check(
                    ota_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: base)))
            }
        } else if request.method == "POST" {
            try check(ota_curl_setopt_offset(handle, CURLOPT_POSTFIELDSIZE_LARGE, 0))
            try check(ota_curl_setopt_string(handle, CURLOPT_COPYPOSTFIELDS, ""))
        }

        var headers = request.headers
        if let auth = request.authorization { headers.set("Authorization", auth.headerValue) }
        // libcurl adds "Expect: 100-continue" to larger POSTs, which costs a round trip.
        if headers["Expect"] == nil { headers.add("Expect", "") }
        for field in headers {
            headerList = curl_slist_append(headerList, "\(field.name): \(field.value)")
        }
        try check(ota_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList))

        let context = Unmanaged.passUnretained(collector).toOpaque()
        try check(ota_curl_setopt_write_callback(handle, collectBody))
        try check(ota_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context))
        try check(ota_curl_setopt_header_callback(handle, collectHeader))
        try check(ota_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context))

        let code = withExtendedLifetime(collector) { curl_easy_perform(handle) }
        if code != CURLE_OK {
            throw HTTPClientError(
                kind: Self.kind(of: code), method: request.method, url: request.url,
                reason: String(cString: curl_easy_strerror(code)))
        }
        var status = 0
        _ = ota_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        var connects = 0
        _ = ota_curl_getinfo_long(handle, CURLINFO_NUM_CONNECTS, &connects)
        return HTTPClientResponse(
            status: status, headers: collector.headers, body: collector.body, newConnections: connects)
    }

    private static func kind(of code: CURLcode) -> HTTPClientError.Kind {
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: return .dns
        case CURLE_COULDNT_CONNECT: return .connect
        case CURLE_OPERATION_TIMEDOUT: return .timeout
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM,
            CURLE_SSL_CIPHER, CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH:
            return .tls
        case CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE,
            CURLE_BAD_CONTENT_ENCODING, CURLE_HTTP2, CURLE_HTTP2_STREAM:
            return .reset
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: return .invalidRequest
        default: return .other
        }
    }
}

/// Gathers what libcurl hands its callbacks during one exchange.
private final class ResponseCollector {
    var headers = HTTPHeaders()
    var body: [UInt8] = []
}

private let collectBody: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    data, size, count, context in
    let collector = Unmanaged<ResponseCollector>.fromOpaque(context!).takeUnretainedValue()
    let length = size * count
    if let data, length > 0 {
        data.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
            collector.body.append(contentsOf: UnsafeBufferPointer(start: bytes, count: length))
        }
    }
    return length
}

private let collectHeader: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    data, size, count, context in
    let collector = Unmanaged<ResponseCollector>.fromOpaque(context!).takeUnretainedValue()
    let length = size * count
    guard let data, length > 0 else { return length }
    let line = data.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
        String(decoding: UnsafeBufferPointer(start: bytes, count: length), as: UTF8.self)
    }.trimmingCharacters(in: .whitespacesAndNewlines)
    if line.hasPrefix("HTTP/") {
        // A new status line (after a 100 Continue or a redirect) starts a new header block.
        collector.headers = HTTPHeaders()
        collector.body.removeAll(keepingCapacity: true)
    } else if let colon = line.firstIndex(of: ":") {
        let name = line[..<colon].trimmingCharacters(in: .whitespaces)
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        collector.headers.add(name, value)
    }
    return length
}

/// `curl_global_init` must run once, before any handle exists.
enum CurlGlobal {
    private static let initialized: Bool = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
    }()

    static func ensureInitialized() {
        precondition(initialized, "libcurl failed to initialise (curl_global_init)")
    }
}
