/// What to do about a resource in each status the controller reports (`setpoint explain`, the page's resource view),
/// in one place so the CLI and the page say the same.
public enum ResourceAdvice {
    /// `status` as the API reports it (`in-sync`, `waiting`, `failed` …), or `converged`, `changes`, `unobserved` from a
    /// fresh plan.
    public static func text(status: String, pendingPlan: String?, error: String?) -> String {
        switch status {
        case "in-sync", "changed", "drift-corrected", "converged":
            "nothing: it matches its manifest."
        case "waiting":
            "review plan \(pendingPlan ?? "ID") (setpoint plans show \(pendingPlan ?? "ID")), then setpoint approve or reject it."
        case "failed":
            "fix what the error names\(error.map { " (\($0))" } ?? ""); the controller retries with backoff, or at once when the manifest changes."
        case "held":
            "the action is held until what holds it changes (a rejection, a pause, a lock): see the reason above."
        case "drift":
            "it drifted and the drift policy only reports: change it back, or make the manifest say what it is now."
        case "following":
            "ask the leading controller: this one follows."
        case "changes":
            "apply the plan (setpoint apply), or let a running controller apply it."
        case "unobserved":
            "fix what keeps it from being observed (the message above: an unreachable host or API, a credential), then explain again."
        default:
            "run a controller, or setpoint apply, to converge it."
        }
    }
}
