import Hummingbird

/// A WebHotelier error: the HTTP status, the `error_code` and the `error_msg`.
struct WebHotelierError: Error {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    var retryAfter: Int?

    static func invalidParam(_ message: String) -> Self {
        .init(status: .internalServerError, code: "INVALID_PARAM", message: message)
    }

    static func notFound(_ message: String) -> Self {
        .init(status: .notFound, code: "NOT_FOUND", message: message)
    }

    static func forbidden(_ code: String, _ message: String) -> Self {
        .init(status: .forbidden, code: code, message: message)
    }
}

/// One call as the wrapper echoes it: the method (the path), the HTTP method and the
/// URL parameters (path parameters first, then the query string's).
struct WebHotelierCall: Sendable {
    var method: String
    var httpMethod: String
    var params: [(name: String, value: String)]
    var query: [String: String]

    /// The wrapper every response carries: `{method, http_method, http_code,
    /// error_code, error_msg, params, data}`; `data` is `{}` on errors.
    func envelope(status: HTTPResponse.Status, code: String, message: String, data: JSONValue) -> [UInt8] {
        JSONValue.object([
            "method" => .string(method),
            "http_method" => .string(httpMethod),
            "http_code" => .int(status.code),
            "error_code" => .string(code),
            "error_msg" => .string(message),
            "params"
                => .array(
                    params.map {
                        .object(["type" => .string("URL"), "name" => .string($0.name), "value" => .string($0.value)])
                    }
                ),
            "data" => data,
        ]).serialized
    }

    func errorResponse(_ error: WebHotelierError) -> Response {
        var headers: HTTPFields = [:]
        if let retryAfter = error.retryAfter { headers[.retryAfter] = String(retryAfter) }
        return ResponseMaking.json(
            envelope(status: error.status, code: error.code, message: error.message, data: .object([])),
            status: error.status, headers: headers)
    }

    func date(_ name: String) throws -> Int {
        guard let text = query[name], let day = CivilCalendar.parseDate(text) else {
            throw WebHotelierError.invalidParam("Parameter \(name) is missing or is not a date (YYYY-MM-DD).")
        }
        return day
    }

    func optionalInt(_ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let text = query[name] else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw WebHotelierError.invalidParam(
                "Parameter \(name) must be an integer in \(range.lowerBound)-\(range.upperBound).")
        }
        return number
    }
}
