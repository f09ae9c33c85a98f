import Foundation
import LabsyncTestSupport
import Testing
@testable import Specs

private struct RequirementCorpus: Decodable {
    struct Case: Decodable { var input: String; var canonical: String? }
    var requirements: [Case]

    static let shared: RequirementCorpus = {
        let url = Bundle.module.url(forResource: "pep440-cases", withExtension: "json", subdirectory: "Fixtures")!
        return try! JSONDecoder().decode(RequirementCorpus.self, from: Data(contentsOf: url))
    }()
}

@Suite(.unit) struct RequirementCrossCheck {
    /// packaging-valid strings within labsync's subset print as packaging prints them;
    /// strings packaging rejects are rejected.
    @Test func agreesWithPackaging() {
        let cases = RequirementCorpus.shared.requirements
        #expect(cases.filter { $0.canonical != nil }.count >= 100)
        var problems: [String] = []
        for c in cases {
            let result = Result { () throws(PackagingError) in try Requirement(parsing: c.input) }
            switch (result, c.canonical) {
            case let (.success(r), expected?) where r.description != expected:
                problems.append("\(quoted(c.input)) → \(quoted(r.description)), packaging: \(quoted(expected))")
            case let (.failure(e), expected?):
                problems.append("\(quoted(c.input)) rejected (\(e)), packaging accepts it as \(quoted(expected))")
            case let (.success(r), nil):
                problems.append("\(quoted(c.input)) accepted as \(quoted(r.description)), packaging rejects it")
            default:
                break
            }
        }
        #expect(problems.count == 0, "\(problems.count) requirement cases disagree:\n\(problems.prefix(40).joined(separator: "\n"))")
    }
}

extension RequirementCrossCheck {
    /// The canonical text is what goes to pip: it must parse back to the same requirement.
    @Test func canonicalTextRoundTrips() throws {
        var problems: [String] = []
        for c in RequirementCorpus.shared.requirements where c.canonical != nil {
            let r = try Requirement(parsing: c.input)
            do {
                let again = try Requirement(parsing: r.description)
                if again != r || again.description != r.description {
                    problems.append("\(quoted(c.input)): \(quoted(r.description)) reparses as \(quoted(again.description))")
                }
            } catch {
                problems.append("\(quoted(c.input)): canonical \(quoted(r.description)) is rejected: \(error)")
            }
        }
        #expect(problems.count == 0, "\(problems.joined(separator: "\n"))")
    }
}

@Suite(.unit) struct RequirementParsing {
    @Test func nameExtrasSpecifierMarker() throws {
        let r = try Requirement(parsing: "Requests [Socks, security_extra] >= 2.8.1, <3 ; python_version >= '3.8'")
        #expect(r.name == "Requests")
        #expect(r.normalizedName == "requests")
        #expect(r.extras == ["security-extra", "socks"])
        #expect(r.specifier == (try SpecifierSet(">=2.8.1,<3")))
        #expect(r.specifier.specifiers.map(\.description) == [">=2.8.1", "<3"])
        #expect(r.marker == "python_version >= \"3.8\"")
        #expect(r.description == "Requests[security-extra,socks]<3,>=2.8.1; python_version >= \"3.8\"")
        #expect(try r.specifier.contains(Version("2.9")))
        #expect(try !r.specifier.contains(Version("3.0")))
    }

    @Test(arguments: [
        ("requests", "requests"),
        ("requests[socks]>=2", "requests[socks]>=2"),
        ("foo (>=1.0, <2)", "foo<2,>=1.0"),
        ("foo()", "foo"),
        ("foo[]", "foo"),
        ("Foo.Bar_baz==1.*", "Foo.Bar_baz==1.*"),
        ("foo===1.0", "foo===1.0"),
        ("foo==1.0+local.7", "foo==1.0+local.7"),
        ("foo ; os_name == 'posix' and (sys_platform == 'linux' or sys_platform == 'darwin')",
         "foo; os_name == \"posix\" and (sys_platform == \"linux\" or sys_platform == \"darwin\")"),
        ("foo; os.name == 'posix'", "foo; os_name == \"posix\""),
        ("foo; 'win' not in sys_platform", "foo; \"win\" not in sys_platform"),
        ("foo; extra == 'Test_Extra'", "foo; extra == \"test-extra\""),
        ("foo; (extra == 'Test_Extra' or extra == 'B')", "foo; extra == \"test-extra\" or extra == \"b\""),
        ("foo; platform_release == 'a$b`c|d&e;f'", "foo; platform_release == \"a$b`c|d&e;f\""),
        ("foo; platform_release == 'say \"hi\"'", "foo; platform_release == 'say \"hi\"'"),
        ("\tfoo  ", "foo"),
        ("x", "x"),
    ])
    func accepted(input: String, canonical: String) throws {
        #expect(try Requirement(parsing: input).description == canonical)
    }

    @Test func normalizesNames() {
        #expect(normalizePackageName("Foo__Bar.-baz") == "foo-bar-baz")
        #expect(normalizePackageName("requests") == "requests")
        #expect(normalizePackageName("Django") == "django")
    }

    @Test func equalRequirementsHashAlike() throws {
        let a = try Requirement(parsing: "foo[b,a]>=1.0,<2")
        let b = try Requirement(parsing: "foo [a, b] (<2, >=1.0.0)")
        #expect(a == b)
        #expect(Set([a, b]).count == 1)
    }
}

@Suite(.unit) struct RequirementSecurity {
    /// Everything that could make pip do something other than install a named
    /// project from an index is refused with `.forbiddenRequirement`.
    @Test(arguments: [
        "",
        "   ",
        "pkg @ https://example.org/pkg.tar.gz",
        "pkg@https://example.org/pkg.whl",
        "pkg @ file:///tmp/pkg",
        "pkg @ git+https://github.com/x/y.git",
        "https://example.org/pkg.tar.gz",
        "git+https://github.com/x/y.git#egg=y",
        "-e .",
        "-e git+https://x/y#egg=y",
        "--index-url http://evil.example/simple",
        "--extra-index-url=http://x",
        "-r requirements.txt",
        "-c constraints.txt",
        "--pre",
        " -U numpy",
        "./pkg",
        "../pkg",
        "/tmp/pkg",
        "~/pkg",
        "pkg/sub",
        "C:\\pkg",
        "numpy-1.0-py3-none-any.whl",
        "pkg.tar.gz",
        "pkg.zip",
        "numpy; rm -rf /",
        "numpy scipy",
        "numpy>=1.0 scipy",
        "numpy --index-url x",
        "numpy -e .",
        "numpy (>=1.0) pandas",
        "numpy$(reboot)",
        "numpy`reboot`",
        "numpy|sh",
        "numpy&&reboot",
        "numpy>=1.0|reboot",
        "numpy>1.0#comment",
        "numpy===`reboot`",
        "numpy===$HOME",
        "numpy'",
        "numpy\"",
        "numpy\nrm -rf /",
        "numpy\r",
        "numpy\u{0}",
        "numpy\u{1b}[31m",
        "numpy\u{7f}",
        "nümpy",
        "numpy\u{a0}",
        "numpy\u{2028}",
        "numpy; os_name == 'a\\'b'",
        String(repeating: "a", count: 1001),
        "a==" + String(repeating: "1.", count: 499) + "1",
    ])
    func forbidden(input: String) {
        #expect(throws: PackagingError.self) { try Requirement(parsing: input) }
        do {
            _ = try Requirement(parsing: input)
        } catch {
            #expect(error.kind == .forbiddenRequirement, "\(quoted(input)): \(error)")
            #expect(!error.message.isEmpty)
        }
    }

    /// Malformed requirements are rejected as `.invalidRequirement`.
    @Test(arguments: [
        "foo[bar",
        "foo[bar baz]",
        "foo(>=1.0",
        "foo>=1.0abc",
        "foo>=1.*",
        "foo<1.0+local",
        "foo_",
        "foo[bar_]",
        "foo==1.0,foo",
        "foo; ",
        "foo;",
        "foo; rm -rf x",
        "foo; python_version",
        "foo; python_version >= '3' and",
        "foo; python_version = '3'",
        "foo; notavar == '3'",
        "foo; os_name == 'a' andos_name == 'b'",
        "foo; os_name == 'unterminated",
        "[bar]",
        ">=1.0",
        "foo>=1.0;;",
    ])
    func invalid(input: String) {
        do {
            let r = try Requirement(parsing: input)
            Issue.record("\(quoted(input)) was accepted as \(r)")
        } catch {
            #expect(error.kind == .invalidRequirement, "\(quoted(input)): \(error)")
        }
    }

    @Test func messagesSayWhy() {
        func message(_ s: String) -> String {
            do { _ = try Requirement(parsing: s); return "" } catch { return error.message }
        }
        #expect(message("pkg @ https://x/y").contains("direct references"))
        #expect(message("-e .").contains("pip option"))
        #expect(message("numpy scipy").contains("one requirement per entry"))
        #expect(message("numpy; rm -rf /").contains("URLs and paths"))
        #expect(message("numpy$(x)").contains("'$'"))
        #expect(message(String(repeating: "a", count: 1001)).contains("1001 bytes"))
    }

    @Test func longestAllowedIsAccepted() throws {
        let name = String(repeating: "a", count: Requirement.maximumLength)
        #expect(try Requirement(parsing: name).name == name)
    }
}
