import LabsyncTestSupport
import Testing
@testable import Specs

@Suite(.unit) struct RVersionTests {
    func v(_ s: String) throws -> RVersion { try RVersion(s) }

    @Test(arguments: [
        ("1.1-4", "1.1.4", 0), ("1.1-4", "1.1.3", 1), ("1.10", "1.9", 1), ("1.0", "1.0.0", -1),
        ("01.2", "1.2", 0), ("0.2-1", "0.3-0", -1), ("2.0", "1.99.99", 1), ("1-2-3", "1.2.3", 0),
        ("2147483647.0", "2147483646.9", 1), ("3", "3.0", -1),
    ])
    /// `compareVersion()`'s order.
    func ordering(a: String, b: String, expected: Int) throws {
        #expect(RVersion.compareVersion(try v(a), try v(b)) == expected)
        #expect(RVersion.compareVersion(try v(b), try v(a)) == -expected)
    }

    /// package_version's order (used for requirements) pads with zeros;
    /// compareVersion() does not.
    @Test func trailingZerosAreEqualForPackageVersionOnly() throws {
        #expect(try v("1.0") == (try v("1.0.0")))
        #expect(try v("3") == (try v("3.0-0")))
        #expect(RVersion.compareVersion(try v("1.0"), try v("1.0.0")) == -1)
        #expect(Set([try v("1.0"), try v("1-0-0")]).count == 1)
        #expect(try v("1.0") < (try v("1.0.1")))
        #expect(try v("1.10") > (try v("1.9")))
    }

    @Test func keepsTheTextAsWritten() throws {
        #expect(try v("1.1-4").description == "1.1-4")
        #expect(try v("1.1-4").components == [1, 1, 4])
        #expect(Set([try v("1.1-4"), try v("1.1.4")]).count == 1)
    }

    @Test(arguments: ["", "1.", ".1", "1..2", "1.-2", "a.1", "1.0a", "1.2 ", " 1.2", "1,2", "1.2.", "-1.0", "2147483648.1", "١.٢"])
    func rejects(_ text: String) {
        #expect(throws: RPackagingError.self) { try RVersion(text) }
    }
}

@Suite(.unit) struct RRequirementTests {
    @Test func parsesRSyntax() throws {
        let r = try RRequirement(parsing: "data.table (>= 1.14.8)")
        #expect(r.name == "data.table")
        #expect(r.constraint == .init(.greaterOrEqual, try RVersion("1.14.8")))
        #expect(r.description == "data.table (>= 1.14.8)")
        #expect(try RRequirement(parsing: "ggplot2") == RRequirement(name: "ggplot2"))
        #expect(try RRequirement(parsing: "fxr (== 0.2-1)").pinnedVersion == (try RVersion("0.2.1")))
        #expect(try RRequirement(parsing: "fxr(<0.3)").description == "fxr (< 0.3)")
        #expect(try RRequirement(parsing: "  Matrix  (  <=  1.6-5 )  ").description == "Matrix (<= 1.6-5)")
        #expect(try RRequirement(parsing: "fxr (> 1)").constraint?.op == .greater)
    }

    @Test(arguments: [
        ("fxr (>= 0.3)", "0.3-0", true), ("fxr (>= 0.3)", "0.2-9", false), ("fxr (> 0.3)", "0.3.0", false), ("fxr (> 0.3)", "0.3.0.1", true),
        ("fxr (> 0.3.0)", "0.3-0", false), ("fxr (<= 1.10)", "1.9", true), ("fxr (< 1.1-4)", "1.1.3", true),
        ("fxr (< 1.1-4)", "1.1.4", false), ("fxr (== 0.2-1)", "0.2.1", true), ("fxr (== 0.2-1)", "0.2-1.0", true), ("fxr (== 0.2-1)", "0.2-1.1", false),
        ("fxr", "0.0-1", true),
    ])
    func satisfaction(requirement: String, version: String, expected: Bool) throws {
        #expect(try RRequirement(parsing: requirement).isSatisfied(by: try RVersion(version)) == expected)
    }

    /// Each must be refused, and the message must say why.
    @Test(arguments: [
        ("https://cran.r-project.org/src/contrib/fxr_0.3-0.tar.gz", "URLs"),
        ("/tmp/fxr_0.3-0.tar.gz", "paths"),
        ("./fxr", "paths"),
        ("fxr_0.3-0.tar.gz", "paths"),
        ("r-lib/remotes", "remotes-style"),
        ("github::r-lib/remotes@v2.4", "remotes-style"),
        ("fxr; system('x')", "not an R package requirement"),
        ("fxr); system('id'", "not an R package requirement"),
        ("system('id')", "not an R package requirement"),
        ("--no-deps", "options"),
        ("fxr (!= 1.0)", "operator"),
        ("fxr (>= 1.0", "not an R package requirement"),
        ("fxr >= 1.0", "not an R package requirement"),
        ("fxr (>= 1.0) (<= 2.0)", "not an R version"),
        ("fxr (>= 1.0a)", "not an R version"),
        ("fxr (>= )", "not an R version"),
        ("x", "not an R package name"),
        ("9fxr", "not an R package name"),
        ("fxr.", "not an R package name"),
        ("fx_r", "not an R package requirement"),
        ("stats::fxr", "not an R package requirement"),
        ("fxr\n(>= 1)", "control characters"),
        ("", "not an R package name"),
    ])
    func refuses(text: String, why: String) {
        do {
            _ = try RRequirement(parsing: text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.message.contains(why), "\(error.message)")
        }
    }
}
