import ArgumentParser
import Drivers
import Foundation
import PackageIndex
import Reconciler
import Specs

extension Packages {
    /// For `make bench`: search latency inside one process, so the numbers
    /// are the index's and not process start-up's.
    struct BenchSearch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "bench-search", abstract: "Time searches (one query a line in FILE).", shouldDisplay: false)

        @Argument var queries: String
        @Option var limit = 20
        @Option(name: .customLong("slowest")) var showSlowest = 0
        @OptionGroup var state: StateOptions

        func run() async throws {
            let lines = try String(contentsOfFile: queries, encoding: .utf8).split(separator: "\n").map(String.init)
            do throws(IndexError) {
                let reader = try NameIndex(stateDirectory: state.resolved).open()
                var times: [Double] = []
                var slowest: [(Double, String)] = []
                var found = 0
                for query in lines {
                    let start = DispatchTime.now().uptimeNanoseconds
                    found += try reader.search(query, limit: limit).count
                    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                    times.append(elapsed)
                    slowest.append((elapsed, query))
                }
                if showSlowest > 0 {
                    for (time, query) in slowest.sorted(by: { $0.0 > $1.0 }).prefix(showSlowest) {
                        printError(String(format: "%8.2f ms  ", time) + query)
                    }
                }
                times.sort()
                func pct(_ p: Double) -> String { String(format: "%.2f", times[min(times.count - 1, Int(Double(times.count) * p))]) }
                say("search: \(times.count) queries, \(found) names returned, p50 \(pct(0.5)) ms, p99 \(pct(0.99)) ms, max \(pct(1.0)) ms")
            } catch {
                throw Packages.fail(error)
            }
        }
    }
}
