import Foundation

/// Exponential backoff for one failing host: retried after `base`, then `2·base`,
/// `4·base`… up to `max`; one success resets it. Other hosts are not affected:
/// a host waiting out its backoff is simply left out of the runs meanwhile.
struct HostBackoff: Sendable, Equatable {
    var consecutiveFailures = 0
    var lastFailure: Date?
    var delay: Double = 0
    var retryAt: Date?

    mutating func failed(at now: Date, base: Double, max: Double) {
        consecutiveFailures += 1
        delay = min(max, base * pow(2, Double(consecutiveFailures - 1)))
        lastFailure = now
        retryAt = now.addingTimeInterval(delay)
    }

    mutating func succeeded() { self = HostBackoff() }

    func isWaiting(at now: Date) -> Bool { retryAt.map { $0 > now } ?? false }
}
