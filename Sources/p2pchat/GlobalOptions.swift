import ArgumentParser
import Foundation
import Logging

/// Options every command accepts.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Home directory (default: $P2PCHAT_HOME, else ~/.p2pchat).")
    var home: String?

    @Option(name: .long, help: "Log level on stderr: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "warning"

    /// The resolved home directory: `--home`, else `$P2PCHAT_HOME`, else `~/.p2pchat`.
    var homeDirectory: URL {
        if let home { return URL(fileURLWithPath: home, isDirectory: true) }
        if let env = ProcessInfo.processInfo.environment["P2PCHAT_HOME"], !env.isEmpty {
            return URL(fileURLWithPath: env, isDirectory: true)
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".p2pchat", isDirectory: true)
    }

    /// A logger writing to stderr at the chosen level.
    func makeLogger(label: String = "p2pchat") throws -> Logger {
        guard let level = Logger.Level(rawValue: logLevel.lowercased()) else {
            throw ValidationError("unknown log level '\(logLevel)'; use trace, debug, info, notice, warning, error or critical")
        }
        var logger = Logger(label: label) { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = level
        return logger
    }

    func openHome() throws -> Home {
        try Home(directory: homeDirectory)
    }
}
