// The observe script's hub part, run for real on this machine (no hub needed):
// it answers in the same round trip, and reports accounts without ever
// reporting a password hash.

import Drivers
import Foundation
import LabsyncTestSupport
import Remote
import Testing

@Suite struct HubObserveTests {
    @Test(.integration) func reportsHubFactsAndAccountsWithoutHashes() throws {
        let request = ObservationRequest.pip(
            roots: [], hub: HubObservationRequest(accounts: ["root", "labsync-no-such-user"],
                                                  certFile: "/nonexistent/labsync-cert.pem"))
        let result = try LocalRunner.run(observeCommand(request, become: .none))
        #expect(result.status == 0, "\(result.stderr)")
        let observed = try decodeObservation(result.stdout)
        let hub = try #require(observed.hub)
        let root = try #require(hub.account("root"))
        #expect(root.uid == 0)
        #expect(hub.account("labsync-no-such-user") == nil)
        #expect(hub.certificate == HubObservation.Certificate(path: "/nonexistent/labsync-cert.pem", exists: false))
        // Only digests of shadow fields ever leave the host.
        let text = String(decoding: result.stdout, as: UTF8.self)
        #expect(!text.contains("$6$") && !text.contains("$y$"))
    }

    @Test(.integration) func withoutAHubSpecThereIsNoHubObject() throws {
        let result = try LocalRunner.run(observeCommand(.pip(roots: []), become: .none))
        #expect(try decodeObservation(result.stdout).hub == nil)
    }

    /// A recorded observation from an older script (no hub keys) still decodes.
    @Test(.unit) func lenientDecoding() throws {
        let hub = try JSONDecoder().decode(HubObservation.self, from: Data(#"{"installed": true}"#.utf8))
        #expect(hub.installed && !hub.running && hub.accounts.isEmpty && hub.configSHA256 == nil)
    }
}
