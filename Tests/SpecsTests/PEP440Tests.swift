import Foundation
import LabsyncTestSupport
import Testing
@testable import Specs

/// The corpus written by scripts/gen-pep440-cases.py from Python's `packaging`.
struct PEP440Corpus: Decodable {
    struct Contains: Decodable {
        var version: String
        var specifier: String
        var set: Bool?
        var contains: Bool
        var containsFinalOnly: Bool
    }
    struct Ordering: Decodable { var left: String; var right: String; var cmp: Int }
    struct Normalization: Decodable { var input: String; var normalized: String }

    var packaging: String
    var contains: [Contains]
    var ordering: [Ordering]
    var normalization: [Normalization]
    var specifiers: [Normalization]
    var specifierSets: [Normalization]
    var invalidVersions: [String]
    var invalidSpecifiers: [String]

    static let shared: PEP440Corpus = {
        let url = Bundle.module.url(forResource: "pep440-cases", withExtension: "json", subdirectory: "Fixtures")!
        return try! JSONDecoder().decode(PEP440Corpus.self, from: Data(contentsOf: url))
    }()
}

/// Collects disagreements so one run reports all of them (up to a limit) by content.
private struct Mismatches {
    var lines: [String] = []
    var count = 0
    mutating func add(_ line: String) {
        count += 1
        if lines.count < 40 { lines.append(line) }
    }
    func check(_ what: String, total: Int, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        #expect(count == 0, "\(count) of \(total) \(what) disagree with packaging:\n\(lines.joined(separator: "\n"))",
                sourceLocation: sourceLocation)
    }
}

@Suite(.unit) struct PEP440CrossCheck {
    let corpus = PEP440Corpus.shared

    @Test func corpusIsLargeEnough() {
        #expect(corpus.contains.count >= 2500)
        #expect(corpus.ordering.count >= 500)
        #expect(corpus.invalidVersions.count >= 50)
        #expect(corpus.invalidSpecifiers.count >= 50)
    }

    @Test func normalizationMatchesPackaging() {
        var bad = Mismatches()
        for c in corpus.normalization {
            do {
                let v = try Version(c.input)
                if v.description != c.normalized { bad.add("Version(\(quoted(c.input))) = \(v), expected \(c.normalized)") }
            } catch {
                bad.add("Version(\(quoted(c.input))) threw \(error), expected \(c.normalized)")
            }
        }
        bad.check("normalization cases", total: corpus.normalization.count)
    }

    @Test func normalizedTextRoundTrips() throws {
        var bad = Mismatches()
        for c in corpus.normalization {
            let v = try Version(c.input)
            let again = try Version(v.description)
            if again != v || again.description != v.description { bad.add("\(quoted(c.input)): \(v) reparses as \(again)") }
        }
        for c in corpus.specifiers {
            let s = try Specifier(c.input)
            let again = try Specifier(s.description)
            if again != s || again.description != s.description { bad.add("\(quoted(c.input)): \(s) reparses as \(again)") }
        }
        bad.check("round trips", total: corpus.normalization.count + corpus.specifiers.count)
    }

    @Test func invalidVersionsAreRejected() {
        var bad = Mismatches()
        for text in corpus.invalidVersions {
            do {
                let v = try Version(text)
                bad.add("Version(\(quoted(text))) accepted as \(v); packaging rejects it")
            } catch {
                if error.kind != .invalidVersion { bad.add("Version(\(quoted(text))) threw kind \(error.kind)") }
            }
        }
        bad.check("invalid versions", total: corpus.invalidVersions.count)
    }

    @Test func invalidSpecifiersAreRejected() {
        var bad = Mismatches()
        for text in corpus.invalidSpecifiers {
            if let s = try? Specifier(text) { bad.add("Specifier(\(quoted(text))) accepted as \(s); packaging rejects it") }
        }
        bad.check("invalid specifiers", total: corpus.invalidSpecifiers.count)
    }

    @Test func specifierTextMatchesPackaging() throws {
        var bad = Mismatches()
        for c in corpus.specifiers {
            do {
                let s = try Specifier(c.input)
                if s.description != c.normalized { bad.add("str(Specifier(\(quoted(c.input)))) = \(s), expected \(c.normalized)") }
            } catch {
                bad.add("Specifier(\(quoted(c.input))) threw \(error)")
            }
        }
        for c in corpus.specifierSets {
            do {
                let s = try SpecifierSet(c.input)
                if s.description != c.normalized { bad.add("str(SpecifierSet(\(quoted(c.input)))) = \(s), expected \(c.normalized)") }
            } catch {
                bad.add("SpecifierSet(\(quoted(c.input))) threw \(error)")
            }
        }
        bad.check("specifier texts", total: corpus.specifiers.count + corpus.specifierSets.count)
    }

    @Test func orderingMatchesPackaging() throws {
        var bad = Mismatches()
        for c in corpus.ordering {
            let l = try Version(c.left), r = try Version(c.right)
            let got = l < r ? -1 : (l == r ? 0 : 1)
            if got != c.cmp { bad.add("\(quoted(c.left)) vs \(quoted(c.right)): got \(got), expected \(c.cmp)") }
            // Equal versions must hash alike (Set/Dictionary rely on it).
            if c.cmp == 0 && l.hashValue != r.hashValue { bad.add("\(quoted(c.left)) and \(quoted(c.right)) are equal but hash differently") }
            if (l > r) != (c.cmp == 1) || (l <= r) != (c.cmp <= 0) { bad.add("\(quoted(c.left)) vs \(quoted(c.right)): inconsistent operators") }
        }
        bad.check("ordering cases", total: corpus.ordering.count)
    }

    @Test func containsMatchesPackaging() throws {
        var bad = Mismatches()
        for c in corpus.contains {
            let v = try Version(c.version)
            let got: Bool, gotFinal: Bool
            if c.set == true {
                let s = try SpecifierSet(c.specifier)
                got = s.contains(v)
                gotFinal = s.contains(v, prereleases: false)
            } else {
                let s = try Specifier(c.specifier)
                got = s.contains(v)
                gotFinal = s.contains(v, prereleases: false)
                // A single specifier and a one-element set must agree.
                if SpecifierSet([s]).contains(v) != got { bad.add("set of \(quoted(c.specifier)) disagrees with the specifier") }
            }
            if got != c.contains {
                bad.add("\(c.set == true ? "SpecifierSet" : "Specifier")(\(quoted(c.specifier))).contains(\(quoted(c.version))) = \(got), expected \(c.contains)")
            }
            if gotFinal != c.containsFinalOnly {
                bad.add("\(quoted(c.specifier)) contains \(quoted(c.version)) with prereleases=False: \(gotFinal), expected \(c.containsFinalOnly)")
            }
        }
        bad.check("contains cases", total: corpus.contains.count)
    }
}

@Suite(.unit) struct PEP440Examples {
    @Test func normalizesLikePackaging() throws {
        #expect(try Version("v1.0-1").description == "1.0.post1")
        #expect(try Version("1!2.0RC1.POST2.DEV3+Ubuntu.007").description == "1!2.0rc1.post2.dev3+ubuntu.7")
        #expect(try Version("01.02").release == [1, 2])
        #expect(try Version("1.0a1").isPrerelease)
        #expect(try Version("1.0.dev0").isPrerelease)
        #expect(try !Version("1.0.post1").isPrerelease)
        #expect(try Version("1.0+abc.5").local == "abc.5")
    }

    @Test func orderingFollowsPEP440() throws {
        let sorted = ["1.0.dev0", "1.0a1.dev1", "1.0a1", "1.0a1.post1", "1.0b1", "1.0rc1", "1.0",
                      "1.0+abc", "1.0+5", "1.0.post1.dev0", "1.0.post1", "1.1", "1!0.1"]
        let versions = try sorted.map { try Version($0) }
        #expect(versions == versions.sorted())
        #expect(try Version("1.0") == Version("1.0.0"))
        #expect(Set([try Version("1.0"), try Version("1.0.0.0")]).count == 1)
    }

    @Test func pipSatisfactionRules() throws {
        func has(_ spec: String, _ v: String) throws -> Bool { try SpecifierSet(spec).contains(Version(v)) }
        #expect(try has("==1.0", "1.0+local"))
        #expect(try !has("==1.0+local", "1.0+other"))
        #expect(try !has(">1.7", "1.7.post1"))
        #expect(try has(">1.7.post1", "1.7.post2"))
        #expect(try !has("<1.7", "1.7rc1"))
        #expect(try has("<1.7rc2", "1.7rc1"))
        #expect(try has("~=2.2", "2.9"))
        #expect(try !has("~=2.2", "3.0"))
        #expect(try has("==1.*", "1.9a1"))
        #expect(try !has("!=1.0.*", "1.0.post3"))
        #expect(try has("===1.0", "1.0"))
        #expect(try !has("===1.0", "1.0.0"))
        #expect(try has("", "5.0a1"))
        #expect(try !SpecifierSet("").contains(Version("5.0a1"), prereleases: false))
        #expect(try has(">=1.0", "1!0.5"))  // any epoch 1 version is above every epoch 0 one
    }

    @Test func errorsCarryKindAndInput() {
        #expect(throws: PackagingError(.invalidVersion, "Invalid version: 'nope'")) { try Version("nope") }
        #expect(throws: PackagingError(.invalidSpecifier, "Invalid specifier: '>=1.*'")) { try Specifier(">=1.*") }
        #expect(throws: PackagingError.self) { try SpecifierSet(">=1.0,foo") }
    }
}
