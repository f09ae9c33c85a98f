import ArgumentParser
import Foundation
import Reconciler
import Remote
import Specs

struct Hosts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Work with the machines the specs name.",
        subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Connect to every Host and print its OS, python3, systemd, sudo and round-trip time.",
            discussion: "Changes nothing. Exits 1 if any host cannot be reached, or cannot be used by apply (become: sudo where sudo needs a password), naming the host and the reason.")

        @OptionGroup var repository: RepositoryOptions

        @Option(name: .customLong("host"), help: "Only this host (repeatable).")
        var hosts: [String] = []

        @Option(name: .customLong("connect-timeout"), help: "Seconds to connect and authenticate.")
        var connectTimeout: Int = 10

        func run() async throws {
            let (_, result) = try await repository.load()
            guard result.isValid else {
                for d in result.diagnostics { printError(d.description) }
                throw ExitCode.failure
            }
            var selected = result.specs.hosts
            if !hosts.isEmpty {
                for name in hosts where result.specs.host(named: name) == nil {
                    printError("error: no Host named '\(name)'")
                    throw ExitCode.failure
                }
                selected = selected.filter { hosts.contains($0.name) }
            }
            let options = InventoryOptions(
                acceptNewHostKeys: repository.acceptNewHostKeys,
                recordedKeysFile: repository.resolvedStateDirectory.appendingPathComponent("known_hosts").path,
                connectTimeout: .seconds(connectTimeout))

            // Hosts in parallel; each transport owns its session on its own thread.
            let outcomes = await withTaskGroup(of: (String, Result<HostFacts, any Error>).self) { group in
                for host in selected {
                    group.addTask {
                        let transport = SSHTransport(endpoint: Inventory.endpoint(for: host, options: options))
                        let outcome: Result<HostFacts, any Error>
                        do { outcome = .success(try await HostCheck.check(transport)) } catch { outcome = .failure(error) }
                        await transport.close()
                        return (host.name, outcome)
                    }
                }
                var all: [String: Result<HostFacts, any Error>] = [:]
                for await (name, outcome) in group { all[name] = outcome }
                return all
            }

            var rows = [["HOST", "OS", "PYTHON3", "SYSTEMD", "SUDO", "CONNECT", "RTT"]]
            var failures: [String] = []
            for host in selected {
                switch outcomes[host.name] {
                case .success(let f)?:
                    rows.append([host.name, f.os, f.python3 ?? "none", f.systemd ? "yes" : "no", f.sudo,
                                 milliseconds(f.connectTime), milliseconds(f.roundTrip)])
                    // Reachable is not enough: a host apply cannot use fails the check.
                    if let problem = HostCheck.problem(f, become: host.become, user: host.user) {
                        failures.append("\(host.name): \(problem)")
                    }
                case .failure(let error)?:
                    rows.append([host.name, "-", "-", "-", "-", "-", "-"])
                    failures.append("\(host.name): \(error)")
                case nil: break
                }
            }
            say(table(rows))
            for failure in failures { printError("error: \(failure)") }
            if !failures.isEmpty { throw ExitCode.failure }
        }
    }
}

func milliseconds(_ d: Duration) -> String {
    let ms = Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    return String(format: "%.0f ms", ms)
}

/// Left-aligned columns separated by two spaces.
func table(_ rows: [[String]]) -> String {
    guard let width = rows.first?.count else { return "" }
    let widths = (0..<width).map { c in rows.map { $0[c].count }.max() ?? 0 }
    return rows.map { row in
        row.enumerated().map { c, cell in
            c == width - 1 ? cell : cell.padding(toLength: widths[c], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }.joined(separator: "\n")
}
