import Foundation
import LabsyncTestSupport
import Testing
@testable import Specs

/// Issue 11: hostile strings, pins, addresses, nulls and symlinked directories.
@Suite(.unit) struct TextEscapingTests {
    @Test func controlCharactersBecomeEscapes() {
        #expect(TextEscaping.visible("a\nb\tc\r\u{1b}[31m\u{0}") == #"a\nb\tc\r\u{1b}[31m\u{0}"#)
        #expect(TextEscaping.visible("x\u{2028}y\u{202e}z\u{85}") == #"x\u{2028}y\u{202e}z\u{85}"#)
        #expect(TextEscaping.visible(#"back\slash"#) == #"back\\slash"#)
        #expect(TextEscaping.visible(#"back\slash"#, backslashes: false) == #"back\slash"#)
        #expect(TextEscaping.visible("numpy>=2 ünïcode") == "numpy>=2 ünïcode")
    }

    @Test func markdownCannotFormMarkupOrCloseDetails() {
        let hostile = "</details>\n\n# Approved <img src=x> [link](http://x) `code` *b* |cell| $x$ &amp;"
        let escaped = TextEscaping.markdown(hostile)
        #expect(!escaped.contains("\n"))
        #expect(!escaped.contains("</details>"))
        #expect(escaped.contains(#"\<img"#))
        // Every special is preceded by a backslash (an odd run of them).
        for special in ["<", ">", "[", "]", "`", "*", "|", "$", "&", "#"] {
            for range in escaped.ranges(of: special) {
                #expect(escaped[..<range.lowerBound].hasSuffix("\\"), "unescaped \(special) in \(escaped)")
            }
        }
    }

    @Test func codeSpanCannotBeClosedFromInside() {
        #expect(TextEscaping.codeSpan("numpy") == "`numpy`")
        #expect(TextEscaping.codeSpan("a`b") == "``a`b``")
        #expect(TextEscaping.codeSpan("``x") == "``` ``x ```")
        #expect(TextEscaping.codeSpan("a|b", inTable: true) == #"`a\|b`"#)
        #expect(TextEscaping.codeSpan("a\nb") == #"`a\nb`"#)
        #expect(TextEscaping.codeFence(for: "echo ````") == "`````")
        #expect(TextEscaping.codeFence(for: "echo") == "```")
    }

    @Test func htmlEscapesItsSpecials() {
        #expect(TextEscaping.html("<a href=\"x\">'&'</a>\n") == "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;\\n")
    }

    @Test func diagnosticsShowControlCharactersAsEscapes() throws {
        let repo = try TempRepo(["a.yaml": """
            apiVersion: labsync/v1
            kind: Host
            metadata: {name: vm}
            spec: {address: 127.0.0.1, user: "bob\\n1:1: error: forged\\u001b[2J"}

            """])
        defer { repo.remove() }
        let lines = errors(repo.load())
        #expect(lines.count == 1, "\(lines)")
        let line = try #require(lines.first)
        #expect(!line.contains("\n") && !line.contains("\u{1b}"), "\(line)")
        #expect(line.contains(#"bob\n1:1: error: forged\u{1b}[2J"#), "\(line)")
    }
}

@Suite(.unit) struct HostKeyPinTests {
    static let ed25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG+ENZPhPA3QOQvBO9EV9bCUpKZknB8EnDu1ENiSOvBZ"

    static func sshString(_ bytes: [UInt8]) -> [UInt8] {
        let n = UInt32(bytes.count)
        return [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + bytes
    }

    static func ecdsa(curve: String, pointSize: Int, type: String? = nil) -> String {
        let keyType = "ecdsa-sha2-\(curve)"
        let blob = sshString(Array(keyType.utf8)) + sshString(Array(curve.utf8)) + sshString([0x04] + Array(repeating: 7, count: pointSize - 1))
        return "\(type ?? keyType) \(Data(blob).base64EncodedString()) comment"
    }

    @Test func acceptedPinsParse() throws {
        #expect(try SSHKeyText.parsePin(Self.ed25519).get().type == "ssh-ed25519")
        for (curve, size) in [("nistp256", 65), ("nistp384", 97), ("nistp521", 133)] {
            #expect(try SSHKeyText.parsePin(Self.ecdsa(curve: curve, pointSize: size)).get().blob.count > size)
        }
    }

    @Test(arguments: [
        ("ssh-ed25519 not-base64!!", SSHKeyText.ParseError.Kind.badBase64),
        ("ssh-ed25519", .malformed),
        ("ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAIG+ENZPhPA3QOQvBO9EV9bCUpKZknB8EnDu1ENiSOvBZ", .typeMismatch),
        ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAEG+ENZPhPA3QOQvBO9EV9bA=", .badKeyData),      // 16-byte key
        ("ssh-ed25519 AAAA", .badKeyData),
        ("ssh-dss AAAAB3NzaC1kc3M=", .unacceptedType),
    ])
    func malformedPinsAreRefused(_ line: String, _ kind: SSHKeyText.ParseError.Kind) {
        guard case .failure(let error) = SSHKeyText.parsePin(line) else {
            Issue.record("\(line) parsed")
            return
        }
        #expect(error.kind == kind, "\(line): \(error)")
    }

    @Test func ecdsaWithTheWrongPointSizeIsRefused() {
        #expect((try? SSHKeyText.parsePin(Self.ecdsa(curve: "nistp256", pointSize: 97)).get()) == nil)
    }

    func host(_ extra: String) -> String {
        "apiVersion: labsync/v1\nkind: Host\nmetadata: {name: vm}\nspec:\n  address: 127.0.0.1\n  user: debian\n" + extra
    }

    @Test func malformedPinIsAValidationErrorAtItsPosition() throws {
        let repo = try TempRepo(["a.yaml": host("  hostKeys:\n    - \"\(Self.ed25519)\"\n    - \"ssh-ed25519 not-base64!!\"\n")])
        defer { repo.remove() }
        let lines = errors(repo.load())
        #expect(lines.count == 1, "\(lines)")
        #expect(lines.first?.hasPrefix("a.yaml:9:7: error: spec.hostKeys: not an OpenSSH public key") == true, "\(lines)")
    }

    @Test func knownHostsFileLinesAreParsed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("labsync-kh-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("good").path
        let bad = dir.appendingPathComponent("bad").path
        try """
            # comment
            [127.0.0.1]:2222 \(Self.ed25519)
            |1|c2FsdA==|aGFzaA== ssh-rsa AAAAB3NzaC1yc2E=
            @revoked * \(Self.ed25519)

            """.write(toFile: good, atomically: true, encoding: .utf8)
        try "host1 \(Self.ed25519)\nhost2 ssh-ed25519 garbage!!\n@bogus host3 \(Self.ed25519)\n"
            .write(toFile: bad, atomically: true, encoding: .utf8)
        for (path, expected) in [(good, [String]()), (dir.appendingPathComponent("missing").path, []), ("/dev/null", []),
                                 (bad, ["\(bad):2:1: error: known_hosts line does not parse", "\(bad):3:1: error: known_hosts line does not parse"])] {
            let repo = try TempRepo(["a.yaml": host("  knownHostsFile: \(path)\n")])
            defer { repo.remove() }
            let lines = errors(repo.load())
            #expect(lines.count == expected.count, "\(path): \(lines)")
            for (line, prefix) in zip(lines, expected) { #expect(line.hasPrefix(prefix), "\(line)") }
        }
    }
}

@Suite(.unit) struct HostAddressTests {
    @Test(arguments: ["lab-01", "lab-01.example.org", "lab-01.example.org.", "192.0.2.1", "::1", "2001:db8::7",
                      "fe80::1%eth0", "::ffff:192.0.2.1", "1:2:3:4:5:6:7:8", "LOCALHOST", "a"])
    func goodAddresses(_ address: String) {
        #expect(Rules.checkHostAddress(address) == nil, "\(address)")
    }

    @Test(arguments: ["-oProxyCommand=sh", "-lab", "lab_01", "lab 01", "lab/01", "", "10.0.0.300", "010.0.0.1",
                      "1.2.3", "a..b", "-", "lab-.x", "[::1]", "1::2::3", "1:2:3:4:5:6:7:8:9", "ex\u{e4}mple.org",
                      String(repeating: "a", count: 64) + ".org", "host:22"])
    func badAddresses(_ address: String) {
        #expect(Rules.checkHostAddress(address) != nil, "\(address)")
    }
}

@Suite(.unit) struct ExplicitNullTests {
    static let env = """
        apiVersion: labsync/v1
        kind: Host
        metadata: {name: vm}
        spec: {address: 127.0.0.1, user: debian}
        ---
        apiVersion: labsync/v1
        kind: PythonEnvironment
        metadata: {name: ml}
        spec:
          host: vm

        """

    @Test(arguments: [
        ("  installer: ~\n", "a.yaml:11:14: error: spec.installer has no value"),
        ("  state:\n", "a.yaml:11:3: error: spec.state has no value"),
        ("  python: null\n", "a.yaml:11:11: error: spec.python has no value"),
        ("  owner: \"\"\n", "a.yaml:11:10: error: spec.owner must not be empty"),
        ("  packages: [numpy, ~]\n", "a.yaml:11:21: error: spec.packages[1] must be a string, found null"),
        ("  kernel: {displayName: \" \"}\n", "a.yaml:11:25: error: spec.kernel.displayName must not be empty"),
    ])
    func nullsAndEmptiesAreErrors(_ line: String, _ expected: String) throws {
        let repo = try TempRepo(["a.yaml": Self.env + line])
        defer { repo.remove() }
        let lines = errors(repo.load())
        #expect(lines.count == 1, "\(lines)")
        #expect(lines.first?.hasPrefix(expected) == true, "\(lines)")
    }

    @Test func absentKeysStillMeanTheDefault() throws {
        let repo = try TempRepo(["a.yaml": Self.env])
        defer { repo.remove() }
        let result = repo.load()
        #expect(errors(result) == [])
        #expect(result.specs.environments.first?.state == .present)
    }
}

@Suite(.unit) struct SymlinkedDirectoryTests {
    @Test func linkedDirectoryOutsideIsAnError() throws {
        let outside = try TempRepo(["x.yaml": hostDoc])
        defer { outside.remove() }
        let repo = try TempRepo(["a.yaml": hostDoc])
        defer { repo.remove() }
        try FileManager.default.createSymbolicLink(atPath: repo.root.appendingPathComponent("escape").path,
                                                   withDestinationPath: outside.root.path)
        let lines = errors(repo.load())
        #expect(lines == ["escape:1:1: error: symbolic link points outside the repository; not read"], "\(lines)")
    }

    @Test func linkedDirectoryInsideLoadsItsSpecs() throws {
        let repo = try TempRepo([".store/hosts.yaml": hostDoc])  // hidden: read only through the link
        defer { repo.remove() }
        try FileManager.default.createSymbolicLink(atPath: repo.root.appendingPathComponent("hosts").path,
                                                   withDestinationPath: ".store")
        let result = repo.load()
        #expect(errors(result) == [])
        #expect(result.specs.hosts.map(\.name) == ["vm"])
        #expect(result.specs.hosts.first?.metadata.location.file == "hosts/hosts.yaml")
    }

    @Test func linkLoopsAreErrorsNotHangs() throws {
        let repo = try TempRepo(["a/h.yaml": hostDoc])
        defer { repo.remove() }
        try FileManager.default.createSymbolicLink(atPath: repo.root.appendingPathComponent("a/up").path, withDestinationPath: "..")
        let lines = errors(repo.load())
        #expect(lines == ["a/up:1:1: error: symbolic link leads back to a directory that contains it; not read"], "\(lines)")
    }
}

/// Issue 11 #11: the repository's identity, recorded in every marker; required
/// once prune is used.
@Suite(.unit) struct RepositoryNameTests {
    @Test(arguments: [
        ("prune: true\n", "labsync.yaml:1:8: error: prune: true needs the repository's name:"),
        ("name: \"lab a\"\nprune: true\n", "labsync.yaml:1:7: error: name must be letters, digits"),
        ("name: -lab\n", "labsync.yaml:1:7: error: name must be letters, digits"),
    ])
    func badSettingsAreErrorsAtTheirPosition(_ text: String, _ expected: String) throws {
        let repo = try TempRepo(["labsync.yaml": text, "hosts.yaml": hostDoc])
        defer { repo.remove() }
        let lines = errors(repo.load())
        #expect(lines.count == 1, "\(lines)")
        #expect(lines.first?.hasPrefix(expected) == true, "\(lines)")
    }

    @Test func theNameReachesTheSpecSet() throws {
        let repo = try TempRepo(["labsync.yaml": "name: lab-a\nprune: true\n", "hosts.yaml": hostDoc])
        defer { repo.remove() }
        let result = repo.load()
        #expect(errors(result) == [])
        #expect(result.settings.name == "lab-a" && result.settings.prune)
        #expect(result.specs.repository == "lab-a")
    }
}
