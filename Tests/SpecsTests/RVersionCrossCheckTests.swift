import Foundation
import LabsyncTestSupport
import Testing
@testable import Specs

/// The corpus written by scripts/gen-rversion-cases.R from R itself
/// (`make test` regenerates it with the R installed).
struct RVersionCorpus: Decodable {
    struct Pair: Decodable { var a: String; var b: String; var compareVersion: Int; var lt: Bool; var eq: Bool; var gt: Bool }
    struct Validity: Decodable { var text: String; var valid: Bool }
    var r: String
    var pairs: [Pair]
    var validity: [Validity]

    static let shared: RVersionCorpus = {
        let url = Bundle.module.url(forResource: "rversion-cases", withExtension: "json", subdirectory: "Fixtures")!
        return try! JSONDecoder().decode(RVersionCorpus.self, from: Data(contentsOf: url))
    }()
}

@Suite(.unit) struct RVersionCrossCheck {
    let corpus = RVersionCorpus.shared

    @Test func corpusIsLargeAndVaried() throws {
        #expect(corpus.pairs.count >= 5000)
        #expect(corpus.r.hasPrefix("R version"))
        // The generator must exercise every outcome and both separators, or the check proves little.
        #expect(Set(corpus.pairs.map(\.compareVersion)) == [-1, 0, 1])
        #expect(corpus.pairs.filter { $0.eq && $0.a != $0.b }.count >= 100)
        #expect(corpus.pairs.contains { $0.a.contains("-") } && corpus.pairs.contains { $0.a.contains(".") })
        // The two R orders differ on trailing zeros; both must be exercised.
        #expect(corpus.pairs.filter { $0.eq && $0.compareVersion != 0 }.count >= 100)
    }

    @Test func comparatorAgreesWithROnEveryPair() throws {
        var bad: [String] = []
        var count = 0
        for p in corpus.pairs {
            let a = try RVersion(p.a), b = try RVersion(p.b)
            let c = RVersion.compareVersion(a, b)
            if c != p.compareVersion || (a < b) != p.lt || (a == b) != p.eq || (a > b) != p.gt
                || (RVersion.compare(a, b) == 0) != p.eq || (a == b && a.hashValue != b.hashValue) {
                count += 1
                if bad.count < 40 {
                    bad.append("\(p.a) vs \(p.b): Swift compareVersion \(c), < \(a < b), == \(a == b), > \(a > b); "
                        + "R compareVersion \(p.compareVersion), < \(p.lt), == \(p.eq), > \(p.gt)")
                }
            }
        }
        #expect(count == 0, "\(count) of \(corpus.pairs.count) pairs disagree with \(corpus.r):\n\(bad.joined(separator: "\n"))")
    }

    /// What R refuses, RVersion refuses. (RVersion also refuses components
    /// above R's integer limit, which R turns into NA; the corpus stays below it.)
    @Test func validityAgreesWithR() {
        for c in corpus.validity {
            let parsed = (try? RVersion(c.text)) != nil
            #expect(parsed == c.valid, "'\(c.text)': R says \(c.valid ? "valid" : "invalid")")
        }
    }
}
