// The config serializer: spec values become Python literals that mean exactly
// the spec's value (checked by python3's own parser), and the rendered config
// is deterministic and free of secrets.

import Drivers
import Foundation
import LabsyncTestSupport
import Specs
import Testing

@Suite struct HubConfigTests {
    /// Strings that would break naive quoting, and non-ASCII text.
    static let nasty = [
        "", "plain", "it's", #"say "hi""#, #"back\slash"#, "new\nline", "tab\tand\rcr", "\u{0}nul\u{7}bell",
        #"x"; import os; os.system("id")#"#, "'''triple'''", "\"\"\"", "é ü ß", "日本語", "emoji 🎓",
        "\u{7F}del\u{85}nel", "\u{2028}ls", "{braces} %s $HOME `cmd`",
    ]

    @Test(.integration) func stringLiteralsRoundTripThroughPythonsParser() throws {
        let literals = Self.nasty.map { PythonLiteral.quote($0) }
        #expect(literals.allSatisfy { $0.unicodeScalars.allSatisfy { $0.isASCII } })
        // One literal per line; python prints each parsed value as JSON.
        let source = literals.joined(separator: "\n") + "\n"
        let script = """
            import ast, json, sys
            out = [ast.literal_eval(line) for line in sys.stdin.read().split("\\n") if line]
            sys.stdout.write(json.dumps(out))
            """
        let result = try Spawn.run(["/usr/bin/python3", "-c", script], stdin: Array(source.utf8))
        #expect(result.status == 0, "\(result.stderrText)")
        let decoded = try JSONDecoder().decode([String].self, from: Data(result.stdout))
        #expect(decoded == Self.nasty)
    }

    @Test(.unit) func containersRender() {
        let value = PythonLiteral.list([.dict([("name", .string("admin")), ("users", .set(["b", "a", "b"]))]),
                                        .int(3), .bool(true), .none, .set([])])
        #expect(value.rendered == #"[{"name": "admin", "users": {"a", "b"}}, 3, True, None, set()]"#)
    }

    static let hubYAML = """
        apiVersion: labsync/v1
        kind: Host
        metadata: {name: vm}
        spec: {address: 192.0.2.10, user: debian, become: sudo, knownHostsFile: /k}
        ---
        apiVersion: labsync/v1
        kind: JupyterHub
        metadata: {name: h}
        spec:
          host: vm
          authentication:
            type: gitlab
            admins: [alice]
            allowedUsers: ["bob"]
            gitlab:
              url: https://gitlab.example.org
              clientId: abc123
              clientSecret: {fromEnv: GITLAB_CLIENT_SECRET}
              allowedGroups: [research]
          idleCulling: {timeout: 30m}
          https: {selfSigned: true, hostname: hub.example.org, port: 8443}
          extraConfig: |
            c.Spawner.environment = {"X": "1"}
        """

    static func loadHub(_ yaml: String) throws -> JupyterHubSpec {
        let dir = try Spawn.makeTempDirectory(prefix: "hubspec")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try yaml.write(toFile: dir + "/all.yaml", atomically: true, encoding: .utf8)
        let loaded = SpecLoader().load(directory: URL(fileURLWithPath: dir))
        #expect(loaded.isValid, "\(loaded.diagnostics)")
        return try #require(loaded.specs.hubs.first)
    }

    @Test(.integration) func configIsDeterministicValidPythonAndHoldsNoSecret() throws {
        let hub = try Self.loadHub(Self.hubYAML)
        let config = HubConfig.render(hub)
        #expect(config == HubConfig.render(hub))
        #expect(config.contains(#"c.JupyterHub.bind_url = "https://:8443""#))
        #expect(config.contains(#"c.Authenticator.allowed_users = {"alice", "bob"}"#))
        #expect(config.contains("c.Authenticator.allow_all = False"))
        #expect(config.contains(#"c.GitLabOAuthenticator.allowed_gitlab_groups = {"research"}"#))
        #expect(config.contains(#"{"name": "admin", "users": ["alice"]}"#))
        #expect(config.contains("--timeout=1800"))
        #expect(config.hasSuffix("c.Spawner.environment = {\"X\": \"1\"}\n"))
        #expect(!config.contains("GITLAB_CLIENT_SECRET"))
        // It parses as Python.
        let result = try Spawn.run(["/usr/bin/python3", "-c", "import ast, sys; ast.parse(sys.stdin.read())"],
                                   stdin: Array(config.utf8))
        #expect(result.status == 0, "\(result.stderrText)")
    }

    @Test(.integration) func hostileNamesStayStrings() throws {
        // Group names are free text in the spec: the place a hostile value can come from.
        let yaml = Self.hubYAML.replacing("allowedGroups: [research]",
                                          with: #"allowedGroups: ["g\"}; import os #\n"]"#)
        let hub = try Self.loadHub(yaml)
        let config = HubConfig.render(hub)
        let script = """
            import ast, sys
            tree = ast.parse(sys.stdin.read())
            for node in tree.body:
                if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "c.GitLabOAuthenticator.allowed_gitlab_groups":
                    print(sorted(ast.literal_eval(node.value)))
            imports = [n for n in tree.body if isinstance(n, ast.Import)]
            print(len(imports))
            """
        let result = try Spawn.run(["/usr/bin/python3", "-c", script], stdin: Array(config.utf8))
        #expect(result.stdoutText == "['g\"}; import os #\\n']\n1\n", "\(result.stderrText)")
    }

    /// Azure AD: the user name is a stable claim (the object id) unless the spec
    /// names one; groups only with manage_groups (oauthenticator 17 checks
    /// allowed_groups only then); never allow-all by default.
    @Test(.unit) func azureUsesAStableClaimAndNeverAllowsAllByDefault() throws {
        let yaml = Self.hubYAML.replacing(#/    type: gitlab\n(.|\n)*allowedGroups: \[research\]\n/#, with: { _ in """
                type: azuread
                allowedUsers: ["0b0e9d7c-1111-2222-3333-444455556666"]
                azuread:
                  tenantId: contoso.onmicrosoft.com
                  clientId: abc123
                  clientSecret: {fromFile: /etc/labsync/secrets/aad}
                  allowedGroups: [staff]

            """ })
        let config = HubConfig.render(try Self.loadHub(yaml))
        #expect(config.contains(#"c.JupyterHub.authenticator_class = "oauthenticator.azuread.AzureAdOAuthenticator""#))
        #expect(config.contains(#"c.AzureAdOAuthenticator.tenant_id = "contoso.onmicrosoft.com""#))
        #expect(config.contains(#"c.AzureAdOAuthenticator.username_claim = "oid""#))
        #expect(config.contains("c.AzureAdOAuthenticator.manage_groups = True"))
        #expect(config.contains(#"c.AzureAdOAuthenticator.allowed_groups = {"staff"}"#))
        #expect(config.contains("c.Authenticator.allow_all = False"))
        #expect(!config.contains("/etc/labsync/secrets/aad"))
        #expect(config.contains(#"oauth_callback_url = "https://hub.example.org:8443/hub/oauth_callback""#))
        // v2.0 endpoints of the global cloud by default.
        #expect(config.contains(#"c.AzureAdOAuthenticator.authorize_url = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize""#))
        #expect(config.contains(#"c.AzureAdOAuthenticator.scope = ["openid", "profile", "email"]"#))
    }

    /// A sovereign cloud (or a self-run test provider): the authority moves
    /// every endpoint; the tenant stays in the path.
    @Test(.unit) func azureAuthorityMovesTheEndpoints() throws {
        let yaml = Self.hubYAML.replacing(#/    type: gitlab\n(.|\n)*allowedGroups: \[research\]\n/#, with: { _ in """
                type: azuread
                allowedUsers: [kim@uni.example]
                azuread:
                  authority: https://login.microsoftonline.us
                  tenantId: 72f988bf-86f1-41af-91ab-2d7cd011db47
                  clientId: abc123
                  clientSecret: {fromEnv: AAD_SECRET}
                  usernameClaim: preferred_username

            """ })
        let config = HubConfig.render(try Self.loadHub(yaml))
        let base = "https://login.microsoftonline.us/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0"
        #expect(config.contains(#"c.AzureAdOAuthenticator.graph_url = "https://login.microsoftonline.us""#))
        #expect(config.contains("c.AzureAdOAuthenticator.authorize_url = \"\(base)/authorize\""))
        #expect(config.contains("c.AzureAdOAuthenticator.token_url = \"\(base)/token\""))
        #expect(config.contains(#"c.AzureAdOAuthenticator.username_claim = "preferred_username""#))
    }
}
