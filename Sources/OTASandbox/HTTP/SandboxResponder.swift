import Hummingbird

/// Routes by hand rather than with Hummingbird's router, so unknown paths and wrong
/// methods get WebHotelier's own errors and the feed path stays short.
struct SandboxResponder: HTTPResponder {
    typealias Context = BasicRequestContext
    let core: SandboxCore

    func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        if path == "/v2/inventory" {
            return await InventoryFeedAPI(core: core).respond(to: request)
        }
        if path.hasPrefix("/hotels/ota/") {
            return await OpenTravelPullAPI(core: core).respond(to: request)
        }
        if path == "/_sandbox" || path.hasPrefix("/_sandbox/") {
            return await SandboxAdminAPI(core: core).respond(to: request)
        }
        return await WebHotelierAPI(core: core).respond(to: request)
    }
}
