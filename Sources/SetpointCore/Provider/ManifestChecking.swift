/// Providers that check declared resources with the system's own tools before anything is planned (`promtool check
/// rules`, `amtool check-config`): `setpoint validate`, `plan` and `apply` report their diagnostics at the manifest's
/// positions, and a manifest with an error is never planned.
public protocol ManifestChecking: Sendable {
    /// Diagnostics for these resources (all of kinds the provider serves); nothing may be changed or contacted remotely.
    func check(_ resources: [Resource], in context: ProviderContext) async -> [Diagnostic]
}
