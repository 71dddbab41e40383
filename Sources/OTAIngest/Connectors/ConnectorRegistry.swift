/// Every connector the tool speaks: adding a dialect adds its line here (and its
/// `kind` to `SourceConfig.Kind`); nothing else names a connector.
public enum ConnectorRegistry {
    public static let all: [any Connector.Type] = [
        WebHotelierConnector.self,
        CursorConnector.self,
        OpenTravelConnector.self,
    ]

    /// The connector of a source's kind.
    public static func connector(for kind: SourceConfig.Kind) -> any Connector.Type {
        guard let connector = all.first(where: { $0.kind == kind }) else {
            preconditionFailure("no connector registered for kind \(kind.rawValue)")
        }
        return connector
    }

    /// The kinds whose connectors run `job` (`pull rates` names WebHotelier's, `pull inventory` the cursor's).
    public static func kinds(running job: PullRunner.Job) -> [SourceConfig.Kind] {
        var kinds: [SourceConfig.Kind] = []
        for connector in all where connector.runs(job) { kinds.append(connector.kind) }
        return kinds
    }
}
