// Scripts every driver may run, embedded from Scripts/ at build time
// (SwiftPM `embedInCode`, so the binary needs no resource bundle) and linted
// by `make lint`.

public enum CoreScripts {
    /// `sh -c aptInstall labsync-apt-install PACKAGE…`: install, and on failure
    /// `apt-get update` once and retry.
    public static let aptInstall = embeddedScript(PackageResources.apt_install_sh)
    /// Defines `labsync_safe_dir [-c] [-o] PATH` (see the file): the apply script
    /// holds it once and calls it for each step's `checkedPaths`.
    public static let safeDirectory = embeddedScript(PackageResources.safe_dir_sh)
}

/// A shell script file's text as it is sent: without its `#!` line (there for
/// shellcheck; the text runs as `sh -c TEXT`) and its final newline, so the
/// command line a plan shows is the script and nothing else.
public func embeddedScript(_ bytes: [UInt8]) -> String {
    var text = String(decoding: bytes, as: UTF8.self)
    if text.hasPrefix("#!"), let newline = text.firstIndex(of: "\n") {
        text = String(text[text.index(after: newline)...])
    }
    if text.hasSuffix("\n") { text.removeLast() }
    return text
}
