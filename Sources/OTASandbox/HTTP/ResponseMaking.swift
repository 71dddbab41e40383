import Hummingbird

/// Turns bytes into a Hummingbird response, spoiling it first if a transport fault
/// was drawn for it.
enum ResponseMaking {
    static func json(
        _ bytes: [UInt8], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:], fault: TransportFault? = nil
    ) -> Response {
        var buffer = ByteBuffer()
        buffer.writeBytes(bytes)
        return json(buffer, status: status, headers: headers, fault: fault)
    }

    static func json(
        _ buffer: ByteBuffer, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:], fault: TransportFault? = nil
    ) -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: body(buffer, fault: fault))
    }

    /// An XML answer (`text/xml; charset=utf-8`), spoiled like `json` when a fault says so.
    static func xml(
        _ bytes: [UInt8], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:], fault: TransportFault? = nil
    ) -> Response {
        var buffer = ByteBuffer()
        buffer.writeBytes(bytes)
        var fields = headers
        fields[.contentType] = "text/xml; charset=utf-8"
        return Response(status: status, headers: fields, body: body(buffer, fault: fault))
    }

    static func body(_ buffer: ByteBuffer, fault: TransportFault?) -> ResponseBody {
        switch fault {
        case .truncatedBody:
            // A well-formed HTTP message whose JSON stops half-way.
            return ResponseBody(byteBuffer: buffer.getSlice(at: buffer.readerIndex, length: buffer.readableBytes / 2)!)
        case .connectionReset:
            // Announces the full length, sends half, then fails the write: the server
            // closes the connection and the client sees a body cut short.
            let half = buffer.getSlice(at: buffer.readerIndex, length: buffer.readableBytes / 2)!
            return ResponseBody(contentLength: buffer.readableBytes) { writer in
                try await writer.write(half)
                throw ConnectionResetFault()
            }
        case .slowBody(let delay):
            return ResponseBody(contentLength: buffer.readableBytes) { writer in
                var rest = buffer
                let chunkSize = max(1, buffer.readableBytes / 8)
                while rest.readableBytes > 0 {
                    let chunk = rest.readSlice(length: min(chunkSize, rest.readableBytes))!
                    try await writer.write(chunk)
                    try await Task.sleep(for: .milliseconds(delay))
                }
                try await writer.finish(nil)
            }
        default:
            return ResponseBody(byteBuffer: buffer)
        }
    }
}

/// Thrown mid-body to make the server drop the connection.
struct ConnectionResetFault: Error {}
