import Foundation
import PackagePlugin

/// Compiles the package's `sql/` folder into the target it is applied to.
///
/// `sql/` stays the plain files analysts read and run with psql; at build time
/// `embed-sql` turns every `.sql` file in it into a string in generated Swift,
/// so the binary carries its SQL and needs no resource bundle beside it. Every
/// file is an input of the command: an edited, added or removed file
/// regenerates the Swift on the next build.
@main
struct EmbedSQL: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let sql = context.package.directoryURL.appendingPathComponent("sql", isDirectory: true)
        let output = context.pluginWorkDirectoryURL.appendingPathComponent("EmbeddedSQL.swift")
        return [
            .buildCommand(
                displayName: "Embedding sql/ into \(target.name)",
                executable: try context.tool(named: "embed-sql").url,
                arguments: [sql.path, output.path],
                inputFiles: try Self.sqlFiles(under: sql),
                outputFiles: [output])
        ]
    }

    private static func sqlFiles(under folder: URL) throws -> [URL] {
        guard
            let walk = FileManager.default.enumerator(
                at: folder, includingPropertiesForKeys: nil, options: [.skipsHiddenFiles])
        else { return [] }
        return walk.compactMap { $0 as? URL }.filter { $0.pathExtension == "sql" }
    }
}
