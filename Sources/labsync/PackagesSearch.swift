import ArgumentParser
import Drivers
import Foundation
import PackageIndex
import Reconciler
import Specs

extension Packages {
    struct Search: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Project names from the local name index: prefix matches first, then names containing TEXT.",
            discussion: "Names are compared normalized (Foo_Bar is foo-bar). Substring matches need at least 3 characters. Run `labsync packages refresh` first.")

        @Argument(help: "Start or part of a project name.", completion: Packages.nameCompletion)
        var text: String

        @Option(help: "At most this many names.")
        var limit = 20

        @OptionGroup var state: StateOptions

        func run() async throws {
            do throws(IndexError) {
                for name in try NameIndex(stateDirectory: state.resolved).open().search(text, limit: limit) { say(name) }
            } catch {
                throw Packages.fail(error)
            }
        }
    }
}
