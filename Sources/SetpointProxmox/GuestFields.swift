import SetpointCore

/// How one guest field maps to PVE: where its value is read and written, in what text, and what PVE means when the
/// config says nothing. The `Mapping` of a guest kind's `FieldTable`.
struct PVEField: Sendable {
    enum Source: Sendable {
        /// A config key of its own (`memory`, `ostype`); with child rows, a property string of their parts.
        case key(String)
        /// A `name=value` part of the enclosing row's property string (`cache` of `scsi0`).
        case part(String)
        /// A `name=value` part written first (a container NIC's `name=eth0`).
        case first(String)
        /// A map keyed by config slots (`scsi0`, `net1`, `mp0`): each entry is one property string of the child rows.
        case slots(Slots)
        /// An object whose fields are config keys of their own (cloud-init's `ciuser`, `sshkeys` …).
        case group
        /// The storage of a volume (`local-lvm` of `local-lvm:vm-100-disk-0`): a new volume is allocated as
        /// `storage:GiB`, an existing one on the same storage is kept.
        case volumeStorage
        /// The size of a volume, its `size=` part: it changes only by a resize call.
        case volumeSize
        /// A VM NIC's model, from its leading part `virtio=BC:24:…` (model and MAC in one) or `model=`.
        case nicModel
        /// A VM NIC's MAC, from its leading part or `macaddr=`; PVE's MAC is written back when the manifest has none.
        case nicMAC
        /// The storage of the cloud-init drive (`storage:cloudinit` on a free IDE slot, added when missing).
        case cloudInitDrive
        /// Not in the config: read from what the cluster lists (node, pool, power state) or echoed from the manifest
        /// (cluster); changed by calls of its own (migrate, pool membership, start and shutdown) or never.
        case guest(@Sendable (GuestContext) -> Value?)
        /// Only a parameter of the create call (a container's template and root password): never read back.
        case createParameter(String)
        /// Neither read nor written here: the create path's own (a clone source) or ignored (placement).
        case none
    }

    /// Config slots of one family (disks, NICs, mount points, ipconfig).
    struct Slots: Sendable {
        /// Whether a config key and its text are an entry (a VM disk slot that is not a CD-ROM or the cloud-init drive).
        var member: @Sendable (_ key: String, _ text: String) -> Bool
        /// The manifest's key for a config key (`ipconfig0` → `net0`), and back.
        var manifestKey: @Sendable (String) -> String = { $0 }
        var configKey: @Sendable (String) -> String = { $0 }
        /// Parts every entry carries that are no field (`type=veth`).
        var fixedParts: [String] = []
    }

    var source: Source
    var codec: PVECodec
    /// What the field is when PVE's config does not have it (PVE's default); nil: not reported.
    var absent: Value?
    /// Reported only when the manifest sets it (the node of a placed guest is PVE's choice, not a difference).
    var onlyWhenDesired = false
    /// Written even when the manifest leaves it out (the tags carry Setpoint's ownership tag).
    var alwaysWritten = false
    /// Written only by the create call (a container's root volume changes by resize, `unprivileged` never).
    var createOnly = false
    /// The value the create call sends when the manifest has none.
    var createDefault: Value?
    /// A value PVE assumes when the part is missing: not written (a disk's `backup=1`).
    var omitted: Value?
    /// When the manifest has none, the value PVE has now is written back (a container NIC's MAC).
    var keepsCurrent = false
    /// A stopped guest takes a change of this field (and of the fields below it) at once.
    var hotWhenStopped = false
    /// Parts of this property string in table order instead of sorted.
    var tableOrder = false

    init(
        _ source: Source,
        _ codec: PVECodec = .string,
        absent: Value? = nil,
        onlyWhenDesired: Bool = false,
        alwaysWritten: Bool = false,
        createOnly: Bool = false,
        createDefault: Value? = nil,
        omitted: Value? = nil,
        keepsCurrent: Bool = false,
        hotWhenStopped: Bool = false,
        tableOrder: Bool = false
    ) {
        self.source = source
        self.codec = codec
        self.absent = absent
        self.onlyWhenDesired = onlyWhenDesired
        self.alwaysWritten = alwaysWritten
        self.createOnly = createOnly
        self.createDefault = createDefault
        self.omitted = omitted
        self.keepsCurrent = keepsCurrent
        self.hotWhenStopped = hotWhenStopped
        self.tableOrder = tableOrder
    }
}

/// What a `.guest` source reads: the listed guest and the manifest's spec.
struct GuestContext: Sendable {
    var guest: GuestState
    var desired: Value
}

/// A value's text in PVE's config, both ways. `decode` gets the manifest's value (to keep a list in its order).
struct PVECodec: Sendable {
    struct Context {
        var current: String?
        var secrets: any SecretResolver
    }

    var decode: @Sendable (_ text: String, _ desired: Value?) -> Value?
    var encode: @Sendable (_ value: Value?, _ context: Context) throws -> String?

    static let string = PVECodec(decode: { t, _ in .string(t) }, encode: { v, _ in v?.stringValue })
    static let integer = PVECodec(
        decode: { t, _ in Int64(t).map(Value.int) },
        encode: { v, _ in v?.intValue.map { String($0) } }
    )
    /// A decimal (`rate=12.5`); whole numbers without a fraction, read as integers (the manifest's normal form).
    static let number = PVECodec(
        decode: { t, _ in
            guard let d = Double(t), d.isFinite else { return nil }
            return .number(d)
        },
        encode: { v, _ in
            let d: Double? =
                switch v {
                case .double(let d)?: d
                case .int(let i)?: Double(i)
                default: nil
                }
            guard let d else { return nil }
            return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        }
    )
    /// `1`/`0` (read: also on/off, yes/no, true/false).
    static let flag = PVECodec(
        decode: { t, _ in PVEValues.bool(t).map(Value.bool) },
        encode: { v, _ in v?.boolValue.map(PVEValues.flag) }
    )
    /// A disk's `discard`: `on` or `ignore`.
    static let onIgnore = PVECodec(
        decode: { t, _ in .bool(t == "on") },
        encode: { v, _ in v?.boolValue.map { $0 ? "on" : "ignore" } }
    )
    /// Bytes in the manifest, whole MiB in PVE (`[current=]2048` read).
    static let mebibytes = PVECodec(
        decode: { t, _ in
            for (k, v) in PVEValues.pairs(t) where k.isEmpty || k == "current" {
                return Int64(v).flatMap { $0.multipliedReportingOverflow(by: 1 << 20).overflow ? nil : .int($0 << 20) }
            }
            return nil
        },
        encode: { v, _ in v?.intValue.map { String($0 >> 20) } }
    )
    /// The leading part of a property string, bare or as `key=value` (`host` or `cputype=host` of `cpu`); written
    /// bare (the other parts are not Setpoint's).
    static func leading(_ key: String, _ inner: PVECodec) -> PVECodec {
        PVECodec(
            decode: { t, desired in
                let part = PVEValues.pairs(t).first { $0.key.isEmpty || $0.key == key }?.value
                return inner.decode(part ?? t, desired)
            },
            encode: inner.encode
        )
    }
    /// An object of integers as one property string in the given order (`order=1,up=30,down=60`).
    static func integerParts(_ keys: [String]) -> PVECodec {
        PVECodec(
            decode: { t, _ in
                let parts = PVEValues.dict(t)
                var out: [String: Value] = [:]
                for key in keys { out[key] = parts[key].flatMap { Int64($0) }.map(Value.int) }
                // PVE's bare leading number is the order (`startup: 2`).
                if out[keys[0]] == nil, let bare = parts[""].flatMap({ Int64($0) }) { out[keys[0]] = .int(bare) }
                return .map(out)
            },
            encode: { v, _ in
                guard case .map(let m)? = v else { return nil }
                let text = keys.compactMap { key in m[key]?.intValue.map { "\(key)=\($0)" } }.joined(separator: ",")
                return text.isEmpty ? nil : text
            }
        )
    }
    /// A volume size: `32G`, `512M` … read; written only through a resize.
    static let size = PVECodec(decode: { t, _ in PVEValues.size(t).map(Value.int) }, encode: { _, _ in nil })
    /// A list PVE keeps comma-separated, given back in the manifest's order when it holds the same items.
    static func list(whenOn: [String]) -> PVECodec {
        PVECodec(
            decode: { t, desired in
                let items = t == "1" ? whenOn : t == "0" ? [] : t.split(separator: ",").map(String.init)
                return PVEValues.inDesiredOrder(items, desired: desired)
            },
            encode: { v, _ in
                guard case .list(let items)? = v else { return nil }
                return items.isEmpty ? "0" : items.compactMap(\.stringValue).joined(separator: ",")
            }
        )
    }
    /// Tags: PVE's `a;b`, Setpoint's own `setpoint` tag added (and kept when the manifest has no tags).
    static let tags = PVECodec(
        decode: { t, desired in PVEValues.inDesiredOrder(PVEValues.tags(t), desired: desired) },
        encode: { v, context in
            let tags = v.map { $0.listValue.compactMap(\.stringValue) } ?? PVEValues.tags(context.current)
            return PVEValues.tagText(tags)
        }
    )
    /// SSH public keys as cloud-init's `sshkeys` keeps them: URL-encoded lines.
    static let encodedKeys = PVECodec(
        decode: { t, _ in .list(PVEValues.decodeKeys(t).map(Value.string)) },
        encode: { v, _ in v.map { PVEValues.encodeKeys($0.listValue.compactMap(\.stringValue)) } }
    )
    /// SSH public keys as a create parameter takes them: plain lines.
    static let keyLines = PVECodec(
        decode: { t, _ in .list(t.split(separator: "\n").map { .string(String($0)) }) },
        encode: { v, _ in v.map { $0.listValue.compactMap(\.stringValue).joined(separator: "\n") } }
    )
    /// A secret reference, resolved only when written; never read back.
    static let secret = PVECodec(
        decode: { _, _ in nil },
        encode: { v, context in
            guard case .secret(let reference)? = v else { return nil }
            return try context.secrets.resolve(reference)
        }
    )
}

/// A guest kind's field table: observation (PVE's config → the spec in the manifest's shape), the config a spec
/// writes, the config keys behind a changed field, and the field policy — all read from the rows.
struct GuestFieldTable: Sendable {
    typealias Row = FieldTable<PVEField>.Row

    let table: FieldTable<PVEField>
    /// The config key that carries the resource's name (a VM's `name`, a container's `hostname` unless set).
    let nameKey: String
    /// The field policy the planner diffs with, read from the rows once.
    let policy: FieldPolicy
    private let topRows: [Row]
    private let childRows: [[String]: [Row]]

    /// A guest kind's table: restart-impact changes are staged (PVE's pending section) and made live by a separate
    /// restart; a change back to a value someone staged in Proxmox is hot, and so is a change of a `hotWhenStopped`
    /// field on a stopped guest (`noun`: "VM", "container"). With `fieldRuleFirst` a field's own dynamic impact is
    /// asked before the stopped-guest rule.
    init(nameKey: String, noun: String, fieldRuleFirst: Bool, rows: [Row]) {
        let stoppedHot = Set(rows.filter(\.mapping.hotWhenStopped).map(\.pattern))
        let table = FieldTable<PVEField>(
            defaultImpact: .restart,
            stagesRestarts: true,
            kindImpact: { query, row in
                let keys = query.keys
                if keys.count == 1, let live = query.observed?[GuestPolicies.stagedLiveKey]?[keys[0]],
                    live == query.after
                {
                    return (
                        .hot,
                        "reverts a change someone staged in Proxmox: the pending value is dropped, nothing restarts"
                    )
                }
                if fieldRuleFirst, let answer = row?.dynamicImpact?(query) { return answer }
                // A row, or one above it, marked hot when stopped.
                if !GuestPolicies.isRunning(query.observed), var pattern = row?.pattern {
                    while !pattern.isEmpty {
                        if stoppedHot.contains(pattern) {
                            return (.hot, "the \(noun) is stopped: Proxmox applies the change at once")
                        }
                        pattern.removeLast()
                    }
                }
                return nil
            },
            rows: rows
        )
        self.table = table
        self.nameKey = nameKey
        policy = table.policy()
        topRows = table.rows.filter { $0.pattern.count == 1 }
        childRows = Dictionary(grouping: table.rows.filter { $0.pattern.count > 1 }) { Array($0.pattern.dropLast()) }
    }

    /// The rows directly below a pattern, in table order.
    func children(of pattern: [String]) -> [Row] { childRows[pattern] ?? [] }

    // MARK: Observe

    /// The spec PVE's config says, in the manifest's shape (fields the manifest leaves out that PVE always has are
    /// still reported, with PVE's default when the config omits them).
    func observe(_ config: [String: String], guest: GuestState, desired: Value) -> Value {
        var spec: [String: Value] = [:]
        let context = GuestContext(guest: guest, desired: desired)
        for row in topRows {
            let name = row.pattern[0]
            let field = row.mapping
            if field.onlyWhenDesired, desired[name] == nil { continue }
            let value: Value?
            switch field.source {
            case .key(let key):
                value = read(row, text: config[key], desired: desired[name])
            case .slots(let slots):
                value = readSlots(row, slots, config: config, desired: desired[name])
            case .group:
                var group: [String: Value] = [:]
                for child in children(of: row.pattern) {
                    let childName = child.pattern.last!
                    switch child.mapping.source {
                    case .key(let key):
                        group[childName] = read(child, text: config[key], desired: desired[name]?[childName])
                    case .slots(let slots):
                        let entries = readSlots(child, slots, config: config, desired: desired[name]?[childName])
                        if entries?.mapValue.isEmpty == false { group[childName] = entries }
                    case .cloudInitDrive:
                        if let volume = config.first(where: {
                            VMDisks.isDiskKey($0.key) && VMDisks.isCloudInit($0.value)
                        }) {
                            group[childName] = .string(VMDisks.storage(ofVolume: volume.value))
                        }
                    default: break
                    }
                }
                value = !group.isEmpty || desired[name] != nil ? .map(group) : nil
            case .guest(let read):
                value = read(context)
            case .part, .first, .volumeStorage, .volumeSize, .nicModel, .nicMAC, .cloudInitDrive, .createParameter,
                .none:
                value = nil
            }
            if let value { spec[name] = value }
        }
        return .map(spec)
    }

    /// A config key's value: a scalar by the row's codec, or a property string of the child rows.
    private func read(_ row: Row, text: String?, desired: Value?) -> Value? {
        let children = children(of: row.pattern)
        if children.isEmpty {
            return text.flatMap { row.mapping.codec.decode($0, desired) } ?? absent(row, desired: desired)
        }
        // A property string PVE leaves out is reported with its parts' defaults when the row has a default.
        guard let text = text ?? (row.mapping.absent != nil ? "" : nil) else { return nil }
        return readParts(children, text: text, desired: desired)
    }

    /// PVE's default for a missing key; a default list in the manifest's order when it holds the same items.
    private func absent(_ row: Row, desired: Value?) -> Value? {
        guard case .list(let items)? = row.mapping.absent else { return row.mapping.absent }
        return PVEValues.inDesiredOrder(items.compactMap(\.stringValue), desired: desired)
    }

    private func readSlots(_ row: Row, _ slots: PVEField.Slots, config: [String: String], desired: Value?) -> Value? {
        let children = children(of: row.pattern + ["*"])
        var entries: [String: Value] = [:]
        for (key, text) in config where slots.member(key, text) {
            let slot = slots.manifestKey(key)
            entries[slot] = readParts(children, text: text, desired: desired?[slot])
        }
        return .map(entries)
    }

    /// The fields of one property string (`virtio=BC:24:…,bridge=vmbr0,tag=20`).
    private func readParts(_ rows: [Row], text: String, desired: Value?) -> Value {
        let pairs = PVEValues.pairs(text)
        let parts = Dictionary(pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        let volume = pairs.first { $0.key.isEmpty || $0.key == "file" || $0.key == "volume" }?.value
        var out: [String: Value] = [:]
        for row in rows {
            let name = row.pattern.last!
            let field = row.mapping
            var value: Value?
            switch field.source {
            case .part(let key), .first(let key):
                value = parts[key].flatMap { field.codec.decode($0, desired?[name]) }
            case .volumeStorage:
                value = volume.map { .string(VMDisks.storage(ofVolume: $0)) }
            case .volumeSize:
                value = parts["size"].flatMap { field.codec.decode($0, nil) }
            case .nicModel:
                value = VMNICs.modelAndMAC(pairs).model.map(Value.string)
            case .nicMAC:
                value = VMNICs.modelAndMAC(pairs).mac.map(Value.string)
            default:
                value = nil
            }
            if let value = value ?? field.absent { out[name] = value }
        }
        return .map(out)
    }

    // MARK: Write

    /// The config keys the spec sets, in PVE's text; `current` is the config as it is (volumes and MACs are kept).
    /// With `forCreate`, also what only the create call takes.
    func config(
        _ desired: Value,
        name: String,
        current: [String: String],
        secrets: any SecretResolver,
        forCreate: Bool
    ) throws -> [String: String] {
        var c: [String: String] = [nameKey: name]
        for row in topRows {
            let field = row.mapping
            let fieldName = row.pattern[0]
            if field.createOnly, !forCreate { continue }
            var value = desired[fieldName]
            if value == nil, forCreate { value = field.createDefault }
            switch field.source {
            case .key(let key):
                if let text = try write(row, value, current: current[key], secrets: secrets, forCreate: forCreate) {
                    c[key] = text
                }
            case .slots(let slots):
                try writeSlots(row, slots, value, into: &c, current: current, secrets: secrets, forCreate: forCreate)
            case .group:
                guard value != nil else { continue }
                for child in children(of: row.pattern) {
                    let childValue = value?[child.pattern.last!]
                    switch child.mapping.source {
                    case .key(let key):
                        let text = try write(
                            child,
                            childValue,
                            current: current[key],
                            secrets: secrets,
                            forCreate: forCreate
                        )
                        if let text { c[key] = text }
                    case .slots(let slots):
                        try writeSlots(
                            child,
                            slots,
                            childValue,
                            into: &c,
                            current: current,
                            secrets: secrets,
                            forCreate: forCreate
                        )
                    case .cloudInitDrive:
                        let hasDrive = current.contains { VMDisks.isDiskKey($0.key) && VMDisks.isCloudInit($0.value) }
                        if !hasDrive {
                            let disks = desired["disks"]?.mapValue ?? [:]
                            let storage =
                                childValue?.stringValue
                                ?? disks.keys.sorted().first.flatMap { disks[$0]?["storage"]?.stringValue }
                                ?? "local-lvm"
                            let free = ["ide2", "ide0", "ide1", "ide3"].first { current[$0] == nil && disks[$0] == nil }
                            c[free ?? "ide2"] = "\(storage):cloudinit"
                        }
                    default: break
                    }
                }
            case .createParameter(let key):
                if forCreate, let text = try field.codec.encode(value, .init(current: nil, secrets: secrets)) {
                    c[key] = text
                }
            case .part, .first, .volumeStorage, .volumeSize, .nicModel, .nicMAC, .cloudInitDrive, .guest, .none:
                break
            }
        }
        return c
    }

    /// One config key's text: a scalar by its codec, or a property string of the child rows.
    private func write(
        _ row: Row,
        _ value: Value?,
        current: String?,
        secrets: any SecretResolver,
        forCreate: Bool
    ) throws -> String? {
        let children = children(of: row.pattern)
        if children.isEmpty {
            guard value != nil || row.mapping.alwaysWritten else { return nil }
            return try row.mapping.codec.encode(value, .init(current: current, secrets: secrets))
        }
        guard let value else { return nil }
        let text = try writeParts(row, children, value, current: current, secrets: secrets, forCreate: forCreate)
        return text.isEmpty ? nil : text
    }

    private func writeSlots(
        _ row: Row,
        _ slots: PVEField.Slots,
        _ value: Value?,
        into c: inout [String: String],
        current: [String: String],
        secrets: any SecretResolver,
        forCreate: Bool
    ) throws {
        let children = children(of: row.pattern + ["*"])
        for (slot, entry) in value?.mapValue ?? [:] {
            let key = slots.configKey(slot)
            var text = try writeParts(
                row,
                children,
                entry,
                current: current[key],
                secrets: secrets,
                forCreate: forCreate
            )
            if !slots.fixedParts.isEmpty {
                var parts = text.split(separator: ",").map(String.init)
                let first = parts.removeFirst()
                text = ([first] + (parts + slots.fixedParts).sorted()).joined(separator: ",")
            }
            c[key] = text
        }
    }

    /// A property string of the child rows: the leading part, then the others (sorted, or in table order).
    private func writeParts(
        _ row: Row,
        _ rows: [Row],
        _ value: Value,
        current: String?,
        secrets: any SecretResolver,
        forCreate: Bool
    ) throws -> String {
        let currentPairs = current.map(PVEValues.pairs) ?? []
        let context = PVECodec.Context(current: nil, secrets: secrets)
        var leading: String?
        var parts: [String] = []
        var volume: (storage: String, size: Int64)?
        var model = "virtio"
        var mac: String?
        for child in rows {
            let name = child.pattern.last!
            let field = child.mapping
            // A format is chosen when the create call allocates a volume, never changed after.
            if field.createOnly, !forCreate { continue }
            var v = value[name]
            if let omitted = field.omitted, v == omitted { v = nil }
            switch field.source {
            case .part(let key):
                if v == nil, field.keepsCurrent { v = currentPairs.first { $0.key == key }.map { .string($0.value) } }
                if let text = try field.codec.encode(v, context) { parts.append("\(key)=\(text)") }
            case .first(let key):
                if let text = try field.codec.encode(v, context) { leading = "\(key)=\(text)" }
            case .volumeStorage:
                if let storage = v?.stringValue { volume = (storage, volume?.size ?? 0) }
            case .volumeSize:
                if let size = v?.intValue { volume = (volume?.storage ?? "", size) }
            case .nicModel:
                if let m = v?.stringValue { model = m }
            case .nicMAC:
                mac = v?.stringValue ?? VMNICs.modelAndMAC(currentPairs).mac
            default:
                break
            }
        }
        if rows.contains(where: { if case .nicModel = $0.mapping.source { true } else { false } }) {
            leading = mac.map { "\(model)=\($0)" } ?? model
        }
        if let volume {
            let existing = currentPairs.first { $0.key.isEmpty || $0.key == "file" || $0.key == "volume" }?.value
            if let existing, existing.hasPrefix(volume.storage + ":") {
                // The same volume: its options change; its size stays what storage says (resize is its own call).
                let size = currentPairs.first { $0.key == "size" }.map { ["size=\($0.value)"] } ?? []
                return ([existing] + (parts + size).sorted()).joined(separator: ",")
            }
            return (["\(volume.storage):\(PVEValues.gib(volume.size))"] + parts).joined(separator: ",")
        }
        if !row.mapping.tableOrder { parts.sort() }
        return ((leading.map { [$0] } ?? []) + parts).joined(separator: ",")
    }

    // MARK: Keys

    /// Whether a top-level field is written to the config (not by a call of its own, nor only at create).
    func isConfigField(_ name: String) -> Bool {
        guard let row = topRows.first(where: { $0.pattern[0] == name }), !row.mapping.createOnly else { return false }
        switch row.mapping.source {
        case .key, .slots, .group: return true
        default: return false
        }
    }

    /// Config keys whose value PVE never shows (a password): never deleted because they look absent.
    var writeOnlyKeys: Set<String> {
        Set(
            table.rows.compactMap { row in
                guard row.comparison == .writeOnly, case .key(let key) = row.mapping.source else { return nil }
                return key
            }
        )
    }

    /// The config keys behind a changed path (`disks.scsi1.cache` → `scsi1`, `cloudInit.ipConfig.net0` → `ipconfig0`).
    func keys(for path: FieldPath, desired: Value, current: [String: String]) -> [String] {
        let names = path.keyNames
        guard let first = names.first, let row = topRows.first(where: { $0.pattern[0] == first }) else { return [] }
        return keys(row, below: Array(names.dropFirst()), desired: desired[first], current: current)
    }

    private func keys(_ row: Row, below names: [String], desired: Value?, current: [String: String]) -> [String] {
        guard !row.mapping.createOnly else { return [] }
        switch row.mapping.source {
        case .key(let key):
            return [key]
        case .slots(let slots):
            if let slot = names.first { return [slots.configKey(slot)] }
            return (desired?.mapValue.keys.map(slots.configKey) ?? [])
                + current.filter { slots.member($0.key, $0.value) }.map(\.key)
        case .group:
            let children = children(of: row.pattern)
            if let name = names.first {
                guard let child = children.first(where: { $0.pattern.last == name }) else { return [] }
                return keys(child, below: Array(names.dropFirst()), desired: desired?[name], current: current)
            }
            return children.flatMap { keys($0, below: [], desired: desired?[$0.pattern.last!], current: current) }
        default:
            return []
        }
    }
}

/// A VM's disk slots.
enum VMDisks {
    static let buses = ["scsi", "virtio", "sata", "ide"]

    static func isDiskKey(_ key: String) -> Bool {
        buses.contains { key.hasPrefix($0) && Int(key.dropFirst($0.count)) != nil }
    }

    static func isCloudInit(_ text: String) -> Bool { text.contains("cloudinit") }

    /// The storage of a volume text (`local-lvm:vm-100-disk-0,size=32G` → `local-lvm`).
    static func storage(ofVolume text: String) -> String {
        let volume = PVEValues.pairs(text).first { $0.key.isEmpty || $0.key == "file" || $0.key == "volume" }?.value
        return String((volume ?? "").split(separator: ":").first ?? "")
    }

    /// Disks the manifest describes: not a CD-ROM, not the cloud-init drive.
    static let slots = PVEField.Slots(member: { key, text in
        isDiskKey(key) && !isCloudInit(text) && PVEValues.dict(text)["media"] != "cdrom"
    })
}

/// NIC slots (`net0` …) of VMs and containers.
enum VMNICs {
    static func isNICKey(_ key: String) -> Bool { key.hasPrefix("net") && Int(key.dropFirst(3)) != nil }

    /// A VM NIC's model and MAC: `virtio=BC:24:11:00:00:01` or `model=virtio,macaddr=…`.
    static func modelAndMAC(_ pairs: [(key: String, value: String)]) -> (model: String?, mac: String?) {
        var model: String?
        var mac: String?
        for (k, v) in pairs {
            switch k {
            case "model", "": model = v
            case "macaddr": mac = v
            default:
                if k.count > 1, v.count == 17, v.filter({ $0 == ":" }).count == 5, k != "hwaddr" {
                    model = k
                    mac = v
                }
            }
        }
        return (model, mac)
    }

    static let slots = PVEField.Slots(member: { key, _ in isNICKey(key) })
}
