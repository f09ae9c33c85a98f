import ArgumentParser
import Drivers
import Foundation
import PackageIndex
import Reconciler
import Specs

extension Packages {
    struct Versions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Versions of a project with a file installable on a given Python and platform, newest first.",
            discussion: """
                A version counts when one of its files is not yanked, its requires-python admits the \
                Python (3.X is taken as 3.X.0, as pip does), and it is an sdist or a wheel whose tags \
                the platform accepts (manylinux_2_36_x86_64 also accepts older manylinux, the legacy \
                manylinux1/2010/2014 aliases and linux_x86_64). After each version: wheel, sdist or both.
                """)

        @Argument(help: "Project name.", completion: Packages.nameCompletion)
        var name: String

        @Option(help: "Target CPython, 3.X or 3.X.Y.")
        var python: String

        @Option(help: "Target platform tag.")
        var platform = InstallTarget.defaultPlatform

        @Option(help: "Simple API URL (default: \(IndexClient.defaultIndexURL)).")
        var index: String?

        @OptionGroup var state: StateOptions

        func run() async throws {
            do { try await perform() } catch { throw Packages.fail(error) }
        }

        func perform() async throws(IndexError) {
            let target = try InstallTarget(python: python, platform: platform)
            let client = IndexClient(settings: nil, overrideURL: index ?? IndexClient.defaultIndexURL,
                                     cacheDirectory: Packages.httpCache(state.resolved))
            let files: [IndexFile]
            do throws(IndexError) {
                files = try await client.files(project: name)
            } catch {
                guard error.kind == .projectNotFound else { throw error }
                var message = error.message
                if let close = try? NameIndex(stateDirectory: state.resolved).open().closest(to: name), !close.isEmpty {
                    message += "; did you mean \(close.joined(separator: ", "))?"
                }
                throw IndexError(.projectNotFound, message)
            }
            let versions = Installability(target: target).installableVersions(files, project: name)
            guard !versions.isEmpty else {
                throw IndexError(.projectNotFound, "\(normalizePackageName(name)): no version has a file installable on \(target)")
            }
            for version in versions { say(version.description) }
        }
    }
}
