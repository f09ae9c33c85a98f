// Three views of one Plan value: text for a terminal (Terraform-like), Markdown
// for a pull-request comment, JSON for machines. None of them decides anything.

import Drivers
import Foundation
import Remote
import Specs

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
        if isEmpty {
            return manifests?.directory == nil ? "No changes. Hosts match the specs."
                                               : "No changes. Hosts and manifests match the specs."
        }
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
            out.append("Host \(esc(host)):")
            for step in steps where step.host == host {
                out.append("  \(step.action.symbol) \(step.action.rawValue) \(esc(step.resource))")
                if !step.packages.isEmpty { out.append("      packages: \(step.packages.map(esc).joined(separator: ", "))") }
                out.append("      reason: \(esc(step.reason))")
            }
            out.append("")
        }
        if !drift.isEmpty {
            out.append("Drift (changed on the host, not in the specs):")
            for item in drift {
                out.append("  ! \(esc(item.host)) \(esc(item.resource)): \(item.kind.rawValue) \(esc(item.package)): \(esc(item.detail))")
            }
            out.append("")
        }
        if !unmanaged.isEmpty {
            out.append("Unmanaged (found, left alone):")
            for item in unmanaged {
                out.append("  ? \(esc(item.host)) \(esc(item.path)) (\(unmanagedFacts(item))): \(item.kind.rawValue): \(esc(item.detail))")
            }
            out.append("")
        }
        out += manifestText()
        if !errors.isEmpty {
            out.append("Errors (nothing planned for these):")
            for error in errors { out.append("  x \(esc(error.host)) \(esc(error.resource)): \(esc(error.message))") }
            out.append("")
        }
        out.append(summaryLine)
        return out.joined(separator: "\n") + "\n"
    }

    /// The driver's summary of an unmanaged item, from the host: escaped.
    func unmanagedFacts(_ item: UnmanagedItem, markdown: Bool = false) -> String {
        markdown ? escapeMarkdown(item.summary) : esc(item.summary)
    }

    // MARK: Markdown

    public func renderMarkdown() -> String {
        var out: [String] = []
        var headline = "**\(summaryLine)**"
        if let revision { headline += " Revision \(TextEscaping.codeSpan(revision))." }
        out.append(headline)
        var notes: [String] = []
        if !drift.isEmpty { notes.append("\(drift.count) drift item\(drift.count == 1 ? "" : "s")") }
        if !unmanaged.isEmpty { notes.append("\(unmanaged.count) unmanaged venv\(unmanaged.count == 1 ? "" : "s")") }
        if !errors.isEmpty { notes.append("\(errors.count) error\(errors.count == 1 ? "" : "s")") }
        if !notes.isEmpty { out.append(""); out.append(notes.joined(separator: ", ") + ".") }

        for host in hostNames {
            out.append("")
            out.append("### Host \(TextEscaping.codeSpan(host))")
            let indices = steps.indices.filter { steps[$0].host == host }
            if !indices.isEmpty {
                out.append("")
                out.append("| | action | resource | packages |")
                out.append("|---|---|---|---|")
                for i in indices {
                    let s = steps[i]
                    let packages = s.packages.map { TextEscaping.codeSpan($0, inTable: true) }.joined(separator: " ")
                    out.append("| `\(s.action.symbol)` | \(s.action.rawValue) | \(escapeMarkdown(s.resource)) | \(packages) |")
                }
                out.append("")
                out.append("<details><summary>Step details</summary>")
                out.append("")
                for i in indices {
                    let s = steps[i]
                    out.append("- `\(s.action.symbol) \(s.action.rawValue)` \(escapeMarkdown(s.resource)): \(escapeMarkdown(s.reason))")
                    if i < work.count, !work[i].commands.isEmpty {
                        out.append("")
                        // A fence longer than any backtick run in the commands: nothing in them can close it.
                        let fence = TextEscaping.codeFence(for: (work[i].commands.map(\.shellLine)
                            + work[i].checkedPaths.map(\.summary)).joined())
                        out.append("  \(fence)sh")
                        if !work[i].checkedPaths.isEmpty {
                            out.append("  # first, resolved on the host: " + esc(work[i].checkedPaths.map(\.summary).joined(separator: ", ")))
                        }
                        for command in work[i].commands { out.append("  " + command.shellLine.replacing("\n", with: "\n  ")) }
                        if let path = work[i].markerPath { out.append("  # then write \(esc(path))") }
                        out.append("  \(fence)")
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
                "\(escapeMarkdown($0.resource)): \($0.kind.rawValue) \(TextEscaping.codeSpan($0.package)): \(escapeMarkdown($0.detail))"
            })
            section("**Unmanaged venvs** (left alone)", unmanaged.filter { $0.host == host }.map {
                "\(TextEscaping.codeSpan($0.path)) (\(unmanagedFacts($0, markdown: true))): \($0.kind.rawValue): \(escapeMarkdown($0.detail))"
            })
            section("**Errors**", errors.filter { $0.host == host }.map {
                "\(escapeMarkdown($0.resource)): \(escapeMarkdown($0.message))"
            })
        }
        out += manifestMarkdown()
        return out.joined(separator: "\n") + "\n"
    }

    /// Keeps spec- and host-provided text from turning into Markdown/HTML, a
    /// new line, or the end of the `<details>` block in a PR comment.
    func escapeMarkdown(_ text: String) -> String { TextEscaping.markdown(text) }

    /// Text plans: control characters as escapes, so a value cannot start a
    /// line of its own (a forged step).
    func esc(_ text: String) -> String { TextEscaping.visible(text) }

    // MARK: manifests

    func manifestText() -> [String] {
        guard let m = manifests else { return [] }
        var out: [String] = []
        if let directory = m.directory {
            if !m.changes.isEmpty {
                out.append("Manifests in \(esc(directory)):")
                for change in m.changes {
                    out.append("  \(change.action.symbol) \(change.action.rawValue) \(esc(change.path)) (\(esc(change.resource)))")
                    for value in change.diff { out.append("      \(esc(value.description))") }
                }
                out.append("")
            }
            for secret in m.secrets {
                out.append("Needs Secret \(esc(secret.namespace))/\(esc(secret.name)), key \(esc(secret.key)), for \(esc(secret.resource)) "
                           + "(create it yourself; `labsync render --secret-template` prints the command).")
            }
            if !m.secrets.isEmpty { out.append("") }
        }
        if !m.notPlanned.isEmpty {
            out.append("Not planned (pass --manifests DIR): \(m.notPlanned.map(esc).joined(separator: ", "))")
            out.append("")
        }
        return out
    }

    func manifestMarkdown() -> [String] {
        guard let m = manifests else { return [] }
        var out: [String] = []
        if let directory = m.directory {
            out += ["", "### Manifests in \(TextEscaping.codeSpan(directory))"]
            if !m.changes.isEmpty {
                out += ["", "| | action | resource | file |", "|---|---|---|---|"]
                for c in m.changes {
                    out.append("| `\(c.action.symbol)` | \(c.action.rawValue) | \(escapeMarkdown(c.resource)) | \(TextEscaping.codeSpan(c.path, inTable: true)) |")
                }
                for c in m.changes where !c.diff.isEmpty {
                    // A diff block: GitHub and GitLab colour the removed and added values.
                    var lines: [String] = []
                    for value in c.diff {
                        if let before = value.before { lines.append("- \(esc(value.path)): \(esc(before))") }
                        if let after = value.after { lines.append("+ \(esc(value.path)): \(esc(after))") }
                    }
                    let fence = TextEscaping.codeFence(for: lines.joined())
                    out += ["", "Changes in \(TextEscaping.codeSpan(c.path)):", "", "\(fence)diff"] + lines + [fence]
                }
            } else {
                out += ["", "No changes: the directory holds what the specs render."]
            }
            if !m.secrets.isEmpty {
                out += ["", "**Secrets to create** (names only; `labsync render --secret-template` prints the command)", ""]
                out += m.secrets.map {
                    "- Secret \(TextEscaping.codeSpan("\($0.namespace)/\($0.name)")), key \(TextEscaping.codeSpan($0.key)), for \(escapeMarkdown($0.resource))"
                }
            }
        }
        if !m.notPlanned.isEmpty {
            out += ["", "**Not planned** (pass `--manifests DIR`): " + m.notPlanned.map(escapeMarkdown).joined(separator: ", ")]
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
