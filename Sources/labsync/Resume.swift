import ArgumentParser
import Daemon
import Foundation

struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Let the daemon change hosts again after `labsync suspend`.")

    @Option(name: .customLong("state-dir"),
            help: "The daemon's state directory (default: /var/lib/labsync as root, else ~/.local/state/labsync).")
    var stateDirectory: String?

    func run() throws {
        let file = DaemonConfiguration.suspendFile(in: stateDirectoryURL(stateDirectory))
        guard FileManager.default.fileExists(atPath: file.path) else {
            say("Not suspended.")
            return
        }
        do { try FileManager.default.removeItem(at: file) } catch {
            printError("error: cannot remove \(file.path): \(error)")
            throw ExitCode.failure
        }
        say("Resumed: the daemon applies changes again from its next reconcile.")
    }
}

func stateDirectoryURL(_ path: String?) -> URL {
    var options = RepositoryOptions()
    options.stateDirectory = path
    return options.resolvedStateDirectory
}
