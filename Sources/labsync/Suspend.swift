import ArgumentParser
import Daemon
import Foundation
import Reconciler
import Remote

struct Suspend: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stop the daemon from changing hosts (it keeps observing) until `labsync resume`.",
        discussion: "Writes <state-dir>/suspended; creating that file by hand does the same.")

    @Option(name: .customLong("state-dir"),
            help: "The daemon's state directory (default: /var/lib/labsync as root, else ~/.local/state/labsync).")
    var stateDirectory: String?

    @Option(help: "Why, shown on the status page.")
    var reason: String?

    func run() throws {
        let directory = stateDirectoryURL(stateDirectory)
        let file = DaemonConfiguration.suspendFile(in: directory)
        do {
            try StateDirectory.prepare(directory)
            let text = (reason ?? "suspended by \(ProcessInfo.processInfo.environment["USER"] ?? "uid \(getuid())") at \(Date().formatted(.iso8601))") + "\n"
            try Data(text.utf8).write(to: file, options: .atomic)
        } catch {
            printError("error: cannot write \(file.path): \(error)")
            throw ExitCode.failure
        }
        say("Suspended: the daemon observes the hosts but changes nothing until `labsync resume`.")
    }
}
