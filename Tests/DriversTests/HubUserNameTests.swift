// Azure AD claims become POSIX-safe hub user names (HubUserName): the Swift
// rule is checked on its own, and against the Python copy the rendered
// jupyterhub_config.py carries (run by python3 on the same claims), since the
// hub names users with one and the plan with the other.

import Drivers
import Foundation
import LabsyncTestSupport
import Remote
import Specs
import Testing

@Suite struct HubUserNameTests {
    static let claims = [
        "0f3a1c52-7d4e-4b9a-9c1e-2a6b8d0e4f11", "0f3a1c52-7d4e-4b9a-9c1e-2a6b8d0e4f22",
        "First.Last@uni.example", "first.last@uni.example", "twin2@uni.example", "kim", "Kim", "a",
        "abcdefghijklmnopqrstuvwxyz012345", "abcdefghijklmnopqrstuvwxyz0123456", "_svc", "9lives", "-x",
        "user+tag@uni.example", "Jürgen.Groß@uni.example", "日本語@uni.example", "İstanbul", "x\ny", "a b", "",
    ]

    @Test(.unit) func validNamesStayAndOthersBecomeValid() {
        #expect(HubUserName.posix("kim") == "kim")
        #expect(HubUserName.posix("ls-gl-ann") == "ls-gl-ann")
        #expect(HubUserName.posix("Kim") == "kim")
        for claim in Self.claims {
            let name = HubUserName.posix(claim)
            #expect(name.wholeMatch(of: #/[a-z][a-z0-9_-]{0,31}/#) != nil, "\(claim) → \(name)")
            #expect(HubUserName.posix(name) == name, "not idempotent for \(claim)")
        }
    }

    @Test(.unit) func anObjectIdFitsAndTwoObjectIdsStayTwo() {
        let one = HubUserName.posix("0f3a1c52-7d4e-4b9a-9c1e-2a6b8d0e4f11")
        let two = HubUserName.posix("0f3a1c52-7d4e-4b9a-9c1e-2a6b8d0e4f22")
        #expect(one.count == 32 && one.hasPrefix("u0f3a1c52-7d4e-4b9a-9c1-"))
        #expect(one != two)
        // The hash suffix is of the whole lower-cased claim.
        #expect(one.hasSuffix("-" + String(sha256Hex(Array("0f3a1c52-7d4e-4b9a-9c1e-2a6b8d0e4f11".utf8)).prefix(8))))
        let mail = HubUserName.posix("First.Last@uni.example")
        #expect(mail.hasPrefix("first-last-uni-example-") && mail.count == 31)
        #expect(mail == HubUserName.posix("first.last@uni.example"))
        // A changed name never equals a claim that was valid as it was.
        #expect(HubUserName.posix("first.last") != "first-last")
        let distinct = Set(Self.claims.map { HubUserName.posix($0.lowercased()) })
        #expect(distinct.count == Set(Self.claims.map { $0.lowercased() }).count)
    }

    /// admins/allowedUsers name people by claim; the config lists their hub names.
    @Test(.unit) func azureSpecNamesAreRenderedNormalized() throws {
        let hub = try HubConfigTests.loadHub(Self.azureYAML)
        let config = HubConfig.render(hub)
        let first = HubUserName.posix("first.last@uni.example")
        #expect(HubConfig.allowedUsers(hub) == [first, "kim"].sorted())
        #expect(config.contains("{\"name\": \"admin\", \"users\": [\"\(first)\"]}"))
        #expect(config.contains("AzureAdOAuthenticator.normalize_username = normalize_username"))
        // GitLab hubs keep their names as they are.
        let gitlab = try HubConfigTests.loadHub(HubConfigTests.hubYAML)
        #expect(!HubConfig.render(gitlab).contains("_labsync_posix_username"))
    }

    @Test(.integration) func theRenderedPythonRuleAgreesWithSwift() throws {
        let config = HubConfig.render(try HubConfigTests.loadHub(Self.azureYAML))
        // The rendered function itself, cut out of the config and run alone.
        let start = try #require(config.range(of: "def _labsync_posix_username(name):"))
        let end = try #require(config.range(of: "def _labsync_posix_usernames():"))
        let function = String(config[start.lowerBound..<end.lowerBound])
        let script = function + """

            import json, sys
            for claim in json.load(sys.stdin):
                print(_labsync_posix_username(claim))
            """
        let input = try JSONSerialization.data(withJSONObject: Self.claims)
        let result = try Spawn.run(["/usr/bin/python3", "-c", script], stdin: Array(input))
        #expect(result.status == 0, "\(result.stderrText)")
        #expect(result.stdoutText == Self.claims.map { HubUserName.posix($0) + "\n" }.joined())
        // And the whole config parses.
        let parse = try Spawn.run(["/usr/bin/python3", "-c", "import ast, sys; ast.parse(sys.stdin.read())"],
                                  stdin: Array(config.utf8))
        #expect(parse.status == 0, "\(parse.stderrText)")
    }

    static let azureYAML = HubConfigTests.hubYAML.replacing(
        #/    type: gitlab\n(.|\n)*allowedGroups: \[research\]\n/#, with: { _ in """
                type: azuread
                admins: [first.last@uni.example]
                allowedUsers: [kim]
                azuread:
                  tenantId: contoso.onmicrosoft.com
                  clientId: abc123
                  clientSecret: {fromEnv: AAD_SECRET}
                  usernameClaim: preferred_username

            """ })
}
