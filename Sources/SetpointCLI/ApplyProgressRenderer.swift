import Foundation
import SetpointCore
import SetpointEngine
import SetpointRender

/// Turns apply events into the live lines the CLI prints.
struct ApplyProgressRenderer: Sendable {
    var style: TerminalStyle

    init(style: TerminalStyle = .plain) {
        self.style = style
    }

    /// One line (with its newline) for an event, or nil for events that print nothing.
    func line(for event: ApplyEvent) -> String? {
        switch event {
        case .started(let a):
            return "\(a.resource): \(a.verb)…\n"
        case .succeeded(let a, let d):
            return "\(a.resource): \(a.verb) " + style.green("done") + " (\(seconds(d)))\n"
        case .failed(let a, let message):
            return "\(a.resource): \(a.verb) " + style.red("failed") + ": \(message)\n"
        case .skipped(let a, let reason):
            return "\(a.resource): \(a.verb) " + style.yellow("skipped") + ": \(reason)\n"
        case .interrupted(let inFlight):
            return style.yellow("Interrupted:")
                + " nothing new starts; waiting for \(inFlight.count) action\(inFlight.count == 1 ? "" : "s") in flight\n"
        case .finished(let r):
            var parts = ["\(r.succeeded.count) done"]
            if !r.failed.isEmpty { parts.append("\(r.failed.count) failed") }
            if !r.awaitingApproval.isEmpty { parts.append("\(r.awaitingApproval.count) awaiting approval") }
            let other = r.skipped.count - r.awaitingApproval.count - r.notStarted.count
            if other > 0 { parts.append("\(other) skipped") }
            if !r.notStarted.isEmpty { parts.append("\(r.notStarted.count) not started") }
            let head =
                r.isSuccess && r.awaitingApproval.isEmpty
                ? style.green("Apply complete:") : style.yellow("Apply finished:")
            var out = "\(head) " + parts.joined(separator: ", ") + ".\n"
            if !r.awaitingApproval.isEmpty {
                out += "Awaiting approval (apply again with --approve KIND/NAME or --approve all-risky):\n"
                for id in r.awaitingApproval { out += "  \(id)\n" }
            }
            if !r.notStarted.isEmpty {
                out += "Not started:\n"
                for id in r.notStarted { out += "  \(id)\n" }
            }
            return out
        }
    }

    func seconds(_ d: Duration) -> String {
        let ms = d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
        return ms < 1000 ? "\(ms)ms" : String(format: "%.1fs", Double(ms) / 1000)
    }
}
