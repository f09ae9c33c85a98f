// Three views of one Plan value: text for a terminal (Terraform-like), Markdown
// for a pull-request comment, JSON for machines. None of them decides anything.

import Drivers
import Foundation
import Remote

public enum PlanFormat: String, Sendable, CaseIterable {
    case text, markdown, json
}

extension Plan {
    public func rendered(as format: PlanFormat) -> String {
        switch format {
        case .text: renderText()
        case .markdown: renderMarkdown()
        case .json: renderJSON()
        }
    }

    /// "Plan: 2 to add, 1 to change, 0 to remove." or "No changes. Hosts match the specs."
    public var summaryLine: String {
        if let unobserved = summary.unobservedHosts, !unobserved.isEmpty { return unobservedSummaryLine(unobserved) }
        if isEmpty { return "No changes. Hosts match the specs." }
        return "Plan: \(summary.add) to add, \(summary.change) to change, \(summary.remove) to remove."
    }

    /// Hosts that appear anywhere in the plan, sorted.
    var hostNames: [String] {
        Set(steps.map(\.host) + drift.map(\.host) + unmanaged.map(\.host) + errors.map(\.host)).sorted()
    }

    // MARK: text

    public func renderText() -> String {
        var out: [String] = []
        let hostsWithSteps = Set(steps.map(\.host)).sorted()
        for host in hostsWithSteps {
            out.append("Host \(host):")
            for step in steps where step.host == host {
                out.append("  \(step.action.symbol) \(step.action.rawValue) \(step.resource)")
                if !step.packages.isEmpty { out.append("      packages: \(step.packages.joined(separator: ", "))") }
                out.append("      reason: \(step.reason)")
            }
            out.append("")
        }
        if !drift.isEmpty {
            out.append("Drift (changed on the host, not in the specs):")
            for item in drift {
                out.append("  ! \(item.host) \(item.resource): \(item.kind.rawValue) \(item.package): \(item.detail)")
            }
            out.append("")
        }
        if !unmanaged.isEmpty {
            out.append("Unmanaged (found, left alone):")
            for item in unmanaged {
                out.append("  ? \(item.host) \(item.path) (\(unmanagedFacts(item))): \(item.kind.rawValue): \(item.detail)")
            }
            out.append("")
        }
        if !errors.isEmpty {
            out.append("Errors (nothing planned for these):")
            for error in errors { out.append("  x \(error.host) \(error.resource): \(error.message)") }
            out.append("")
        }
        out.append(summaryLine)
        return out.joined(separator: "\n") + "\n"
    }

    func unmanagedFacts(_ item: UnmanagedItem) -> String { item.summary }

    // MARK: Markdown

    public func renderMarkdown() -> String {
        var out: [String] = []
        var headline = "**\(summaryLine)**"
        if let revision { headline += " Revision `\(revision)`." }
        out.append(headline)
        var notes: [String] = []
        if !drift.isEmpty { notes.append("\(drift.count) drift item\(drift.count == 1 ? "" : "s")") }
        if !unmanaged.isEmpty { notes.append("\(unmanaged.count) unmanaged venv\(unmanaged.count == 1 ? "" : "s")") }
        if !errors.isEmpty { notes.append("\(errors.count) error\(errors.count == 1 ? "" : "s")") }
        if !notes.isEmpty { out.append(""); out.append(notes.joined(separator: ", ") + ".") }

        for host in hostNames {
            out.append("")
            out.append("### Host `\(host)`")
            let indices = steps.indices.filter { steps[$0].host == host }
            if !indices.isEmpty {
                out.append("")
                out.append("| | action | resource | packages |")
                out.append("|---|---|---|---|")
                for i in indices {
                    let s = steps[i]
                    let packages = s.packages.map { "`\($0)`" }.joined(separator: " ")
                    out.append("| `\(s.action.symbol)` | \(s.action.rawValue) | \(s.resource) | \(packages) |")
                }
                out.append("")
                out.append("<details><summary>Step details</summary>")
                out.append("")
                for i in indices {
                    let s = steps[i]
                    out.append("- `\(s.action.symbol) \(s.action.rawValue)` \(s.resource): \(escapeMarkdown(s.reason))")
                    if i < work.count, !work[i].commands.isEmpty {
                        out.append("")
                        out.append("  ```sh")
                        for command in work[i].commands { out.append("  " + command.shellLine.replacing("\n", with: "\n  ")) }
                        if let path = work[i].markerPath { out.append("  # then write \(path)") }
                        out.append("  ```")
                    }
                }
                out.append("")
                out.append("</details>")
            }
            // A bold heading and a bullet list, only when there is something to list.
            func section(_ title: String, _ items: [String]) {
                guard !items.isEmpty else { return }
                out += ["", title, ""] + items.map { "- " + $0 }
            }
            section("**Drift**", drift.filter { $0.host == host }.map {
                "\($0.resource): \($0.kind.rawValue) `\($0.package)`: \(escapeMarkdown($0.detail))"
            })
            section("**Unmanaged venvs** (left alone)", unmanaged.filter { $0.host == host }.map {
                "`\($0.path)` (\(unmanagedFacts($0))): \($0.kind.rawValue): \(escapeMarkdown($0.detail))"
            })
            section("**Errors**", errors.filter { $0.host == host }.map {
                "\($0.resource): \(escapeMarkdown($0.message))"
            })
        }
        return out.joined(separator: "\n") + "\n"
    }

    /// Keeps spec-provided text from turning into Markdown/HTML in a PR comment.
    func escapeMarkdown(_ text: String) -> String {
        var out = ""
        for c in text {
            if "\\`*_[]<>|#".contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }

    // MARK: JSON

    /// Pretty, sorted keys, final newline: stable enough to diff and golden-test.
    public func renderJSON() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Plain strings, ints and arrays of them: encoding cannot fail.
        return String(decoding: try! encoder.encode(self), as: UTF8.self) + "\n"
    }
}
