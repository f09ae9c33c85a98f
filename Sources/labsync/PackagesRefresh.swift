import ArgumentParser
import Drivers
import Foundation
import PackageIndex
import Reconciler
import Specs

extension Packages {
    struct Refresh: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download the index's project list into the local name index.",
            discussion: "A second refresh of an unchanged index costs one conditional request (ETag / Last-Modified).")

        @Option(help: "Simple API URL (default: \(IndexClient.defaultIndexURL)).")
        var index: String?

        @OptionGroup var state: StateOptions

        func run() async throws {
            do { try await perform() } catch { throw Packages.fail(error) }
        }

        func perform() async throws(IndexError) {
            let started = Date()
            let url = index ?? IndexClient.defaultIndexURL
            let client = IndexClient(settings: nil, overrideURL: url, cacheDirectory: Packages.httpCache(state.resolved))
            let names = NameIndex(stateDirectory: state.resolved)
            let tty = isatty(STDERR_FILENO) == 1
            if tty { FileHandle.standardError.write(Data("downloading the project list from \(url)…".utf8)) }
            do throws(IndexError) {
                let response = try await client.projectListResponse()
                if response.notModified, let info = try? names.open().info(),
                   info.indexURL == client.indexURLs.first, info.validator == response.validator {
                    if tty { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
                    say("up to date: \(info.count) names from \(url) (not modified since \(info.refreshedAt ?? "the last refresh"))")
                    return
                }
                let list = try IndexClient.projectNames(response)
                var progress: (@Sendable (Int, Int) -> Void)?
                if tty {
                    progress = { done, total in
                        FileHandle.standardError.write(Data("\r\u{1B}[Kindexing names: \(done)/\(total)".utf8))
                    }
                }
                if tty { FileHandle.standardError.write(Data("\r\u{1B}[Kindexing \(list.count) names…".utf8)) }
                let count = try await names.rebuild(names: list, indexURL: client.indexURLs.first ?? url,
                                                    validator: response.validator, progress: progress)
                if tty { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
                let seconds = Date().timeIntervalSince(started)
                say("indexed \(count) names from \(url) in \(String(format: "%.1f", seconds)) s (\(Int(Double(count) / max(seconds, 0.001))) names/s)")
            } catch {
                if tty { FileHandle.standardError.write(Data("\n".utf8)) }
                throw error
            }
        }
    }
}
