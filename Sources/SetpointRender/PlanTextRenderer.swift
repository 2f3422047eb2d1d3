public import SetpointCore

/// Renders a plan for people, in the conventions of `terraform plan`: one block per changing action with its
/// symbol, impact, reasons and field changes, then orphans, kinds of unknown ownership, planning diagnostics
/// and a summary line. Deterministic: actions in the plan's order, nothing read from the clock or the system.
///
/// ```text
/// Plan 3f9a1c2b7e4d (2025-06-01T12:00:00Z)
/// Manifests: infra/prod (git 1a2b3c4d5e6f, digest 9f86d081884c)
/// Symbols: + create, ~ change in place (update, restart), -/+ replace, - delete
///
///   ~ VirtualMachine/api-1 (id 101)  [restart]
///       # drift: the system no longer matches the last apply
///       ~ memory: 2Gi → 4Gi  [restart] (drift)
///
///   ~ VirtualMachine/api-1 restart (id 101)  (requires approval)
///       # restart-impact changes take effect at the next restart
///       pending restart: memory (staged by the update above)
///
/// Plan: 0 to create, 1 to update, 0 to replace, 0 to delete, 1 to restart; 4 unchanged. 1 needs approval.
/// ```
///
/// Values print as they are in the plan, except that sizes (`.quantity` fields, or integers under
/// `memory`/`size`/`balloon`/`swap` where the schema says nothing) print as `4Gi`, durations as `5m`, and sensitive
/// fields, secret references and `.secret` schema fields as `(sensitive)`.
public struct PlanTextRenderer: Sendable {
    public var style: TerminalStyle
    /// Returns a line (1-based) of a manifest, for the snippets of planning diagnostics; nil leaves them out.
    public var sourceLine: @Sendable (_ file: String, _ line: Int) -> String?

    public init(
        style: TerminalStyle = .plain,
        sourceLine: @escaping @Sendable (String, Int) -> String? = { _, _ in nil }
    ) {
        self.style = style
        self.sourceLine = sourceLine
    }

    /// The whole plan, ending with the summary.
    public func render(_ plan: Plan) -> String {
        let summary = PlanSummary(plan)
        var out = header(plan)
        if summary.hasChanges { out += legend(summary) }
        let failing = Set(plan.diagnostics.filter { $0.severity == .error }.compactMap(\.resource))
        for (index, action) in plan.actions.enumerated() where action.isChange {
            out += "\n" + block(action, earlier: plan.actions[..<index], hasError: failing.contains(action.resource))
        }
        out += orphans(plan)
        out += ownershipUnknown(plan)
        if !plan.diagnostics.isEmpty {
            out += "\n" + DiagnosticTextRenderer(style: style, sourceLine: sourceLine).render(plan.diagnostics)
        }
        return out + "\n" + self.summary(summary)
    }

    // MARK: - header

    func header(_ plan: Plan) -> String {
        var out =
            style.bold("Plan \(text(plan.id))") + (plan.createdAt.isEmpty ? "" : " (\(text(plan.createdAt)))") + "\n"
        var about: [String] = []
        if let commit = plan.source.gitCommit {
            about.append(
                "git \(text(String(commit.prefix(12))))" + (plan.source.gitAuthor.map { " by \(text($0))" } ?? "")
            )
        }
        if !plan.source.manifestDigest.isEmpty {
            about.append(
                "digest \(text(String((plan.source.manifestDigest.hasPrefix("sha256:") ? plan.source.manifestDigest.dropFirst(7) : plan.source.manifestDigest[...]).prefix(12))))"
            )
        }
        let paths = plan.source.paths.map(text).joined(separator: ", ")
        switch (paths.isEmpty, about.isEmpty) {
        case (false, false): out += "Manifests: \(paths) (\(about.joined(separator: ", ")))\n"
        case (false, true): out += "Manifests: \(paths)\n"
        case (true, false): out += "Manifests: \(about.joined(separator: ", "))\n"
        case (true, true): break
        }
        return out
    }

    /// The symbols that occur, in the order create, change in place, replace, delete.
    func legend(_ summary: PlanSummary) -> String {
        var parts: [String] = []
        if summary.count(.create) > 0 { parts.append(style.green("+") + " create") }
        let inPlace = (summary.count(.update) > 0 ? ["update"] : []) + summary.operations.map(\.verb.rawValue)
        if !inPlace.isEmpty {
            parts.append(style.yellow("~") + " change in place (\(inPlace.map(text).joined(separator: ", ")))")
        }
        if summary.count(.replace) > 0 { parts.append(style.magenta("-/+") + " replace") }
        if summary.count(.delete) > 0 { parts.append(style.red("-") + " delete") }
        return "Symbols: " + parts.joined(separator: ", ") + "\n"
    }

    // MARK: - one action

    /// An action's block: header line, reasons, field changes, and for a restart what it makes live.
    /// - Parameters:
    ///   - earlier: the actions before it in the plan (a restart lists what they staged).
    ///   - hasError: a planning error names the action's resource.
    func block(_ action: Action, earlier: ArraySlice<Action>, hasError: Bool = false) -> String {
        let symbol = action.verb.symbol
        var head = String(repeating: " ", count: max(0, 3 - symbol.count)) + colour(symbol, for: action.verb) + " "
        head += style.bold(action.resource.description.printable)
        if !PlanSummary.basicVerbs.contains(action.verb) { head += " " + style.bold(text(action.verb.rawValue)) }
        if let id = action.providerID { head += " " + style.dim("(id \(text(id)))") }
        var marks: [String] = []
        if let tag = headerTag(action) { marks.append(tag) }
        if action.requiresApproval { marks.append(style.bold("(requires approval)")) }
        if hasError { marks.append(style.red("(error below)")) }
        if !marks.isEmpty { head += "  " + marks.joined(separator: " ") }
        var out = head + "\n"
        // A reason that explains one field goes under that field; the action's other reasons go under its header.
        let fieldReasons = Set(action.changes.compactMap(\.reason))
        let actionReasons = action.reasons.filter { !fieldReasons.contains($0) }
        for reason in actionReasons {
            out += "      " + style.dim("# " + text(reason)) + "\n"
        }
        for change in action.changes {
            out += "      " + fieldLine(change, of: action) + "\n"
            if let reason = change.reason, !actionReasons.contains(where: { $0.contains(reason) }) {
                out += "          " + style.dim("# " + text(reason)) + "\n"
            }
        }
        if action.verb == .restart {
            let stagers = earlier.filter {
                $0.resource == action.resource && $0.changes.contains { $0.impact == .restart }
            }
            let staged = stagers.flatMap(\.changes).filter { $0.impact == .restart }.map { text($0.path.description) }
            let by =
                stagers.count == 1
                ? "the \(text(stagers[stagers.startIndex].verb.rawValue)) above" : "the actions above"
            let note =
                staged.isEmpty
                ? "changes already staged on the system take effect"
                : staged.joined(separator: ", ") + " (staged by \(by))"
            out += "      " + style.yellow("pending restart") + ": " + note + "\n"
        }
        return out
    }

    /// The action's impact when it says more than the symbol and verb do: a restart's `[restart]` and a
    /// replacement's `[replace]` are left out, a replacement that loses data still says `[data loss]`.
    func headerTag(_ action: Action) -> String? {
        switch action.impact {
        case .hot: nil
        case .restart: action.verb == .restart ? nil : tag(.restart)
        case .replace: action.verb == .replace ? nil : tag(.replace)
        case .dataLoss: tag(.dataLoss)
        }
    }

    func tag(_ impact: Impact) -> String {
        switch impact {
        case .hot: "[hot]"
        case .restart: style.yellow("[restart]")
        case .replace: style.magenta("[replace]")
        case .dataLoss: style.red("[data loss]")
        }
    }

    /// A list of named maps (a cluster's members) element by element: `+ pg-3: {…}`, `- pg-4`,
    /// `~ pg-2: synchronous: false → true`; nil when the list is not such a list.
    func namedListLines(_ before: Value, _ after: Value, type: SchemaType?) -> [String]? {
        guard case .list(let old) = before, case .list(let new) = after else { return nil }
        func named(_ list: [Value]) -> [(String, [String: Value])]? {
            var out: [(String, [String: Value])] = []
            for v in list {
                guard case .map(let m) = v, let name = m["name"]?.stringValue else { return nil }
                out.append((name, m))
            }
            return out
        }
        guard let o = named(old), let n = named(new), !(o.isEmpty && n.isEmpty) else { return nil }
        let oldByName = Dictionary(o, uniquingKeysWith: { a, _ in a })
        let newNames = Set(n.map(\.0))
        func show(_ v: Value) -> String { PlanValueFormatter.format(v, type: nil, key: nil) }
        var lines: [String] = []
        for (name, m) in n {
            guard let was = oldByName[name] else {
                let rest = Value.map(m.filter { $0.key != "name" })
                lines.append(style.green("+") + " \(text(name)): \(text(show(rest)))")
                continue
            }
            let keys = Set(m.keys).union(was.keys).filter { m[$0] != was[$0] }.sorted()
            guard !keys.isEmpty else { continue }
            let diffs = keys.map { k in
                "\(text(k)): \(was[k].map { text(show($0)) } ?? "(unset)") → \(m[k].map { text(show($0)) } ?? "(unset)")"
            }
            lines.append(style.yellow("~") + " \(text(name)): " + diffs.joined(separator: ", "))
        }
        for (name, _) in o where !newNames.contains(name) { lines.append(style.red("-") + " \(text(name))") }
        return lines.isEmpty ? nil : lines
    }

    /// `~ memory: 2Gi → 4Gi  [restart] (drift)`, `+ tags: ["api"]`, `- description: "old"`, `~ password: (sensitive)`.
    func fieldLine(_ change: FieldChange, of action: Action) -> String {
        let type = PlanValueFormatter.schemaType(of: action.resource.kind, at: change.path)
        let key: String? = if case .key(let k)? = change.path.components.last { k } else { nil }
        let sensitive = change.isSensitive || PlanValueFormatter.isSecret(type)
        func show(_ value: Value) -> String {
            sensitive ? "(sensitive)" : PlanValueFormatter.format(value, type: type, key: key)
        }
        let path = text(change.path.description)
        var line: String
        var elementLines = ""
        switch (change.before, change.after) {
        case (let before?, nil):
            line = style.red("-") + " \(path): \(show(before))"
        case (nil, let after?) where !(sensitive && action.verb != .create):
            line = style.green("+") + " \(path): \(show(after))"
        case (let before?, let after?) where !sensitive:
            if let members = namedListLines(before, after, type: type) {
                line = style.yellow("~") + " \(path):"
                elementLines = members.map { "\n          " + $0 }.joined()
            } else {
                line = style.yellow("~") + " \(path): \(show(before)) → \(show(after))"
            }
        case (nil, nil):
            line = style.yellow("~") + " \(path)"
        default:
            // A sensitive value is written: neither side is shown, and a write-only value has no "before" to show.
            line = style.yellow("~") + " \(path): (sensitive)"
        }
        var marks: [String] = []
        if change.impact != .hot { marks.append(tag(change.impact)) }
        if change.origin == .drift { marks.append(style.cyan("(drift)")) }
        if !marks.isEmpty { line += "  " + marks.joined(separator: " ") }
        return line + elementLines
    }

    func colour(_ symbol: String, for verb: Verb) -> String {
        switch verb {
        case .create: style.green(symbol)
        case .delete: style.red(symbol)
        case .replace: style.magenta(symbol)
        default: style.yellow(symbol)
        }
    }

    // MARK: - sections

    func orphans(_ plan: Plan) -> String {
        let left = plan.unprunedOrphans
        guard !left.isEmpty else { return "" }
        return "\n" + style.bold("Orphans") + " (owned but not in the manifests; --prune deletes them):\n"
            + left.map { "    \($0.description.printable)\n" }.joined()
    }

    func ownershipUnknown(_ plan: Plan) -> String {
        guard !plan.ownershipUnknown.isEmpty else { return "" }
        let kinds = plan.ownershipUnknown.map { text($0.rawValue) }.joined(separator: ", ")
        return "\n" + style.yellow("Ownership unknown")
            + " for \(kinds): no state was read, so orphans of these kinds are not\n"
            + "listed and fields removed from the manifests are not detected. Plan with --state to read the state store.\n"
    }

    // MARK: - summary

    /// The closing line: `Plan: 2 to create, 1 to update, 0 to replace, 1 to delete, 1 to restart; 3 unchanged. 2 need approval.`
    /// or `No changes. 12 resources match their manifests.`, and a second line when the plan has errors.
    public func summary(_ s: PlanSummary) -> String {
        var out: String
        if s.hasChanges {
            var counts = [
                "\(s.count(.create)) to create", "\(s.count(.update)) to update", "\(s.count(.replace)) to replace",
                "\(s.count(.delete)) to delete",
            ]
            counts += s.operations.map { "\($0.count) to \(text($0.verb.rawValue))" }
            out = style.bold("Plan:") + " " + counts.joined(separator: ", ") + "; \(s.unchanged) unchanged."
            if s.needingApproval > 0 {
                out += " " + style.bold("\(s.needingApproval) \(s.needingApproval == 1 ? "needs" : "need") approval.")
            }
        } else {
            out = style.green("No changes.")
            switch s.unchanged {
            case 0: out += " No resources were planned."
            case 1: out += " 1 resource matches its manifest."
            default: out += " \(s.unchanged) resources match their manifests."
            }
        }
        out += "\n"
        if s.errors > 0 {
            out += style.red("The plan has \(plural(s.errors, "error")) and cannot be applied.") + "\n"
        }
        return out
    }

    func text(_ s: String) -> String { s.printable }
}

extension String {
    /// With control characters escaped, so that text from manifests and systems stays on its line.
    var printable: String { PlanValueFormatter.printable(self) }
}
