#!/usr/bin/env python3
"""Builds docs/diagnostics.md: every example is run with the real binary and its output pasted in.

Usage: scripts/gen-diagnostics-doc.py SETPOINT_BINARY OUTPUT.md
  e.g. scripts/gen-diagnostics-doc.py .build/debug/setpoint docs/diagnostics.md
A test (SetpointCLITests) runs it and compares the result with the committed docs/diagnostics.md.
"""
import os, re, shutil, subprocess, sys, tempfile

BIN = os.path.abspath(sys.argv[1])
OUT = sys.argv[2]
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
src = open(os.path.join(ROOT, "Sources/SetpointCore/Diagnostics/DiagnosticCode.swift")).read()
names = dict(re.findall(r'static let (\w+) = DiagnosticCode\(rawValue: "(SP\d+)"\)', src))
titles = {names[n]: t for n, t in re.findall(r'\(\.(\w+), "((?:[^"\\]|\\.)*)"\)', src)}

BASE = """apiVersion: setpoint/v1
kind: ProxmoxCluster
metadata:
  name: pve-main
spec:
  endpoints: [https://pve1.example.net:8006]
  tokenId: setpoint@pve!ci
  tokenSecret: {env: PVE_TOKEN}
---
apiVersion: setpoint/v1
kind: ResourcePool
metadata:
  name: web
spec:
  cluster: pve-main
"""

def vm(extra, name="api-1", header=""):
    return f"apiVersion: setpoint/v1\nkind: VirtualMachine\nmetadata:\n  name: {name}\n{header}spec:\n  cluster: pve-main\n{extra}"

CASES = [
 dict(code="SP0001", sev="note",
  when="A document's `apiVersion` does not start with `setpoint/`. Manifests may live beside other YAML "
       "(Kubernetes objects, CI files, Ansible): such documents are skipped and counted in the summary "
       "(\"1 other document skipped\"). A note never makes a run invalid.",
  files={"configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: api-settings\ndata:\n  LOG_LEVEL: info\n"},
  cmd="setpoint validate base.yaml configmap.yaml",
  fix="Nothing, if the document is not meant for Setpoint. If it is, set `apiVersion: setpoint/v1`."),
 dict(code="SP0002", sev="warning",
  when="A folder named on the command line holds no `*.yaml` or `*.yml` file (folders are searched recursively; "
       "hidden files and folders are skipped). The diagnostic has no file position. A warning never makes a run invalid.",
  files={"empty/README.txt": "nothing here\n"},
  cmd="setpoint validate empty",
  fix="Point `validate` at the folder that holds the manifests, and name them `*.yaml` or `*.yml`."),
 dict(code="SP1001", sev="error",
  when="libyaml cannot parse the file: wrong indentation, an unclosed quote or bracket, a tab used for indentation. "
       "The position is where the parser gave up, which can be just after the real mistake. Documents before the "
       "error are still checked; the rest of the file is not read.",
  files={"vm.yaml": vm("   memory: 2Gi\n")},
  cmd="setpoint validate base.yaml vm.yaml",
  fix="Indent `memory:` like its siblings (two spaces under `spec:`)."),
 dict(code="SP1002", sev="error",
  when="`apiVersion` is `setpoint/v1` but `kind` is not one of its kinds. The hint suggests the closest kind.",
  files={"vm.yaml": vm("").replace("kind: VirtualMachine", "kind: VirtualMachin")},
  cmd="setpoint validate base.yaml vm.yaml",
  fix="Spell the kind as listed (kinds are case-sensitive): `kind: VirtualMachine`."),
 dict(code="SP1003", sev="error",
  when="A mapping has a key its schema does not define: a misspelt field, a field of another kind, a top-level key "
       "other than `apiVersion`, `kind`, `metadata` and `spec` (`status` included), or a key other than `env`/`file` "
       "in a secret reference. The hint suggests the closest field and lists the fields allowed there.",
  files={"vm.yaml": vm("  core: 2\n")},
  cmd="setpoint validate base.yaml vm.yaml",
  fix="`cores: 2`. [manifests.md](manifests.md) lists every field of every kind."),
 dict(code="SP1004", sev="error",
  when="A value has the wrong type: a list where a mapping is expected, text where a number is expected, and "
       "especially YAML 1.1's implicit types where a string is expected: `no`, `yes`, `on`, `off` are booleans, "
       "`0755` is the octal number 493, `1:20` is the number 80, `2024-01-01` a timestamp, `~` and an empty value null. "
       "Also reported for a document that is not a mapping, for mapping keys YAML reads as booleans (`on:`), and for custom tags (`!foo`).",
  files={"pool.yaml": "apiVersion: setpoint/v1\nkind: ResourcePool\nmetadata:\n  name: db\nspec:\n  cluster: pve-main\n  comment: no\n"},
  cmd="setpoint validate base.yaml pool.yaml",
  fix="Quote the value: `comment: \"no\"`. (For a number written in quotes where a number is expected, remove the quotes.)"),
 dict(code="SP1005", sev="error",
  when="A required field is absent: `apiVersion`, `kind`, `metadata`, `metadata.name`, `spec`, a kind's required "
       "spec fields (a guest's `cluster`, a disk's `storage` and `size` …), or both `env` and `file` in a secret reference. "
       "The position is the mapping that lacks it; the hint says what the field is for.",
  files={"vm.yaml": "apiVersion: setpoint/v1\nkind: VirtualMachine\nmetadata:\n  name: api-1\nspec:\n  memory: 2Gi\n"},
  cmd="setpoint validate base.yaml vm.yaml",
  fix="Add the field: `cluster: pve-main`."),
 dict(code="SP1006", sev="error",
  when="`metadata.name` is not a DNS label: 1–63 lower-case letters, digits or `-`, starting and ending with a "
       "letter or digit. Names become Proxmox guest names, host names and file names, so the rule is strict.",
  files={"vm.yaml": vm("", name="API_1")},
  cmd="setpoint validate base.yaml vm.yaml",
  fix="`name: api-1`."),
 dict(code="SP1007", sev="error",
  when="A size is not a quantity (`4 GB`, `4Gx`, `1.5` bytes), or a Proxmox size or memory is not a whole number of "
       "MiB. `Ki Mi Gi Ti` are binary, `k M G T` decimal and a bare number is bytes, so `2G` is 2,000,000,000 bytes; "
       "the hint suggests the binary unit.",
  files={"vm.yaml": vm("  memory: 2G\n")},
  cmd="setpoint validate base.yaml vm.yaml",
  fix="`memory: 2Gi` (2 × 1024³ bytes)."),
 dict(code="SP1008", sev="error",
  when="A value of the right type is not allowed: not one of an enumeration's values (the hint suggests the closest), "
       "a number out of range (`cores: 0`, `vlan: 5000`), text not in the expected format (a URL, an IP address, a "
       "token id, a Proxmox storage or node name), a map key that is not a valid slot (`scsi31`), too few or "
       "duplicate list items, an environment variable name that is not one, an unknown value of the `setpoint/approval` "
       "or `setpoint/paused` annotation, and checks within a resource (a `PostgresCluster` whose `primary` is not a "
       "member, duplicate member or receiver names, an `AlertRouting` route naming an undeclared receiver).",
  files={"vm.yaml": vm("  state: runing\n")},
  cmd="setpoint validate base.yaml vm.yaml",
  fix="`state: running`."),
 dict(code="SP1009", sev="error",
  when="Two documents, in the same file or in different files, declare the same `Kind/name`. The second one is "
       "reported, with the position of the first. Names are unique per kind (a `VirtualMachine` and a `Container` may "
       "share a name).",
  files={"vm.yaml": vm("") + "---\n" + vm("  cores: 4\n")},
  cmd="setpoint validate base.yaml vm.yaml",
  fix="Rename one of them (`api-2`), or remove the copy."),
 dict(code="SP1010", sev="error",
  when="A field that names another resource (a guest's `cluster` or `pool`, a backup job's `pool`, a "
       "`ConnectionPool`'s PostgreSQL cluster …) or a `metadata.dependsOn` entry names a resource that no manifest given to "
       "this run declares. The hint lists the declared names of that kind and suggests the closest.",
  files={"vm.yaml": vm("  pool: webs\n")},
  cmd="setpoint validate base.yaml vm.yaml",
  fix="`pool: web`, or declare the missing resource. Validate all manifests together (`setpoint validate manifests/`), "
      "so that references across files resolve."),
 dict(code="SP1011", sev="error",
  when="References and `dependsOn` entries form a cycle, so there is no order to apply the resources in. The "
       "summary shows the whole cycle; the resources in it are left out of the result.",
  files={"vm.yaml": vm("", header="  dependsOn: [VirtualMachine/api-2]\n") + "---\n" + vm("", name="api-2", header="  dependsOn: [VirtualMachine/api-1]\n")},
  cmd="setpoint validate base.yaml vm.yaml",
  fix="Remove one of the edges: here, one of the two `dependsOn` entries."),
 dict(code="SP1012", sev="error",
  when="A document uses a YAML anchor (`&name`) or alias (`*name`). Aliases can expand exponentially (the \"billion "
       "laughs\" attack), so Setpoint never expands them and refuses the document. Reported once per file, at the first one.",
  files={"vm.yaml": vm("  disks:\n    scsi0: &disk {storage: local-lvm, size: 32Gi}\n    scsi1: *disk\n")},
  cmd="setpoint validate base.yaml vm.yaml",
  fix="Write the values out: `scsi1: {storage: local-lvm, size: 32Gi}`."),
 dict(code="SP1013", sev="error",
  when="A file is larger than `--max-file-size` bytes (default 16777216, 16 MiB). It is not read.",
  files={},
  cmd="setpoint validate --max-file-size 100 base.yaml",
  fix="Split the file (folders are read recursively), or raise `--max-file-size`."),
 dict(code="SP1014", sev="error",
  when="Mappings and lists nest deeper than `--max-depth` levels (default 64). No manifest needs that depth; the "
       "limit protects the reader from hostile input. The document is refused. Flow collections (`[`, `{`) nested past "
       "the limit also stop the reading at once — the parser's cost there grows with the square of the depth — so, as "
       "after a syntax error, the documents before are kept and the rest of the file is not read.",
  files={"vm.yaml": vm("  disks:\n    scsi0: {storage: local-lvm, size: 32Gi}\n")},
  cmd="setpoint validate --max-depth 3 base.yaml vm.yaml",
  fix="Flatten the document, or raise `--max-depth` (the default suits every valid manifest)."),
 dict(code="SP1015", sev="error",
  when="A key appears twice in one mapping. YAML tools disagree on which value wins, so Setpoint refuses both.",
  files={"vm.yaml": vm("  memory: 2Gi\n  memory: 4Gi\n")},
  cmd="setpoint validate base.yaml vm.yaml",
  fix="Keep one `memory:` line."),
 dict(code="SP1016", sev="error",
  when="`apiVersion` starts with `setpoint/` but is not a version this Setpoint reads (today only `setpoint/v1`).",
  files={"vm.yaml": vm("").replace("setpoint/v1", "setpoint/v2")},
  cmd="setpoint validate base.yaml vm.yaml",
  fix="`apiVersion: setpoint/v1`, or upgrade Setpoint (`setpoint version` prints the API it reads)."),
 dict(code="SP1017", sev="error",
  when="A secret field (an API token secret, a password …) holds a value instead of a reference. Secrets never live "
       "in manifests or git; they are resolved only when a provider needs them.",
  files={"cluster.yaml": "apiVersion: setpoint/v1\nkind: ProxmoxCluster\nmetadata:\n  name: pve-main\nspec:\n  endpoints: [https://pve1.example.net:8006]\n  tokenId: setpoint@pve!ci\n  tokenSecret: 5f1c2d3e-0000-4000-8000-000000000000\n"},
  cmd="setpoint validate cluster.yaml",
  fix="Reference it: `tokenSecret: {env: PVE_TOKEN}` or `tokenSecret: {file: /run/secrets/pve-token}`, and rotate the "
      "secret if it was ever committed."),
 dict(code="SP1018", sev="error",
  when="A duration is malformed or has no unit. Durations are numbers with units `ms s m h d w`, largest first, each "
       "unit at most once: `30s`, `5m`, `1h30m`, `30d`.",
  files={"cluster.yaml": "apiVersion: setpoint/v1\nkind: ProxmoxCluster\nmetadata:\n  name: pve-main\nspec:\n  endpoints: [https://pve1.example.net:8006]\n  tokenId: setpoint@pve!ci\n  tokenSecret: {env: PVE_TOKEN}\n  requestTimeout: 30\n"},
  cmd="setpoint validate cluster.yaml",
  fix="`requestTimeout: 30s`."),
 dict(code="SP1019", sev="error",
  when="Fields that exclude each other are both given — a guest's `node` and `placement`, `tls.insecure` with "
       "`caFile` or `pinnedPublicKey`, `env` and `file` in one secret reference, a rule's `alert` and `record` — or "
       "none of a required set is (a rule needs `alert` or `record`; a `GuestBackupJob` needs one of `pool`, `vmids`, "
       "`all`). Also: `for` or `keepFiringFor` on a recording rule.",
  files={"vm.yaml": vm("  node: pve1\n  placement: {nodes: [pve1, pve2]}\n")},
  cmd="setpoint validate base.yaml vm.yaml",
  fix="Keep one: `node: pve1` pins the guest, `placement` lets Setpoint choose among nodes."),
 dict(code="SP1020", sev="error",
  when="A path given on the command line does not exist or cannot be read. The diagnostic has no file position.",
  files={},
  cmd="setpoint validate manfests/",
  fix="Check the path (`setpoint validate manifests/`) and its permissions."),
 # Planning diagnostics come from `setpoint plan`, which needs a provider to observe the system; their sections
 # describe them without a recorded run.
 dict(code="SP1021", sev="warning", static=True,
  when="A tool Setpoint checks manifests with is not on the PATH: `promtool` (package prometheus) for `AlertRuleGroup`, "
       "`amtool` (package prometheus-alertmanager) for `AlertRouting`. The resource was not checked. Under `CI=true` this "
       "is an error: a check that silently did not run proves nothing.",
  fix="Install the package, or run where it is installed."),
 dict(code="SP1022", sev="error", static=True,
  when="`promtool check rules` or `amtool check-config` rejected the file Setpoint would write for the resource. For a rule "
       "the diagnostic points at the rule (its `expr` for a PromQL error) and quotes promtool; for a routing it quotes "
       "amtool's reason (the text after `FAILED:`). Nothing is written.",
  fix="Fix the rule or the routing as the quoted message says."),
 dict(code="SP1023", sev="error",
  when="A credential would cross the network unencrypted: a `ProxmoxCluster` endpoint with `http://` (every request "
       "carries the API token), or an `AlertRouting` e-mail receiver with `authPassword` and `requireTLS: false`. "
       "Allowed only when the resource says so itself (`allowPlainHTTP: true`, `allowPlaintextAuth: true`), and then "
       "`setpoint doctor` flags it.",
  files={"cluster.yaml": "apiVersion: setpoint/v1\nkind: ProxmoxCluster\nmetadata:\n  name: pve-main\nspec:\n  endpoints: [http://pve1.example.net:8006]\n  tokenId: setpoint@pve!ci\n  tokenSecret: {env: PVE_TOKEN}\n"},
  cmd="setpoint validate cluster.yaml",
  fix="Use `https://` (PVE listens with TLS on 8006). Only behind a TLS tunnel or in a lab, set `allowPlainHTTP: true`."),
 dict(code="SP2001", sev="error", static=True,
  when="A provider could not observe a resource (unreachable API, missing privilege). Other resources still plan; "
       "the plan is not applyable while this error stands.",
  fix="Fix access to the system (endpoints, credentials, privileges) and plan again."),
 dict(code="SP2002", sev="error", static=True,
  when="A referenced resource (a `ProxmoxCluster`, a `PrometheusServer`) does not exist. Referenced kinds are "
       "never created, so Setpoint cannot plan anything that depends on them.",
  fix="Check the referenced resource's endpoints and credentials, or fix the name."),
 dict(code="SP2003", sev="error", static=True,
  when="A change the provider cannot make, such as shrinking a disk (Proxmox disks only grow).",
  fix="Change the manifest back, or replace the resource deliberately."),
 dict(code="SP2004", sev="warning", static=True,
  when="`--prune` with a manifest set that declares no resource: an empty set never prunes, so a wrong path "
       "cannot delete everything Setpoint owns.",
  fix="Check the paths given to `plan` or `apply`."),
 dict(code="SP2005", sev="warning", static=True,
  when="The provider saw something the plan can go ahead with but an operator should know: a `PostgresCluster` wants "
       "more synchronous standbys than stream right now (commits wait until enough connect); a `ConnectionPool`'s pools "
       "can open more server connections than the cluster's `max_connections` allows, or clients wait for a server "
       "connection; an `AlertRuleGroup` rule fails to evaluate, or a file written with `reload: false` is not loaded yet; "
       "an `AlertRouting`'s configuration file was edited by hand, or holds secrets that every user can read. The message "
       "gives the numbers or the file.",
  fix="Do what the message says (bring a replica back, lower `synchronousCount`, lower pool sizes or raise "
      "`max_connections`), or accept the risk knowingly."),
]

def run(case):
    d = tempfile.mkdtemp()
    with open(os.path.join(d, "base.yaml"), "w") as f: f.write(BASE)
    for name, text in case["files"].items():
        os.makedirs(os.path.dirname(os.path.join(d, name)), exist_ok=True)
        with open(os.path.join(d, name), "w") as f: f.write(text)
    argv = case["cmd"].split()
    argv[0] = BIN
    p = subprocess.run(argv, cwd=d, capture_output=True, text=True, env={"PATH": os.environ["PATH"]})
    shutil.rmtree(d)
    return p.stderr + p.stdout, p.returncode

assert [c["code"] for c in CASES] == sorted(titles), (sorted(titles), [c["code"] for c in CASES])
out = []
out.append("""# Diagnostics

Every problem `setpoint validate` finds is a diagnostic with a stable code. Codes are never reused: a new problem
gets a new code. In text output a diagnostic looks like a compiler's, so editors and terminals can jump to it:

```text
FILE:LINE:COLUMN: SEVERITY[CODE]: SUMMARY in KIND/NAME
 LINE | the source line
      |   ^~~~ under the offending key or value
      = hint: what to do about it
```

and in `--output json` each one is an object with `severity`, `code`, `summary`, `hint`, `file`, `line`, `column` and
`resource` (see [cli.md](cli.md)). Severities: **error** makes the run invalid (exit code 1); **warning** and
**note** do not. Every problem of a run is reported at once.

The examples below validate a small file together with this `base.yaml`, which declares the `ProxmoxCluster`
`pve-main` and the `ResourcePool` `web` that the examples refer to:

```yaml
""" + BASE + """```

The outputs are real: each one is what `setpoint validate` prints for the example.

| code | severity | title |
|---|---|---|
""")
def md(text):
    return text.replace("*", "\\*")
def heading(c):
    return f"{c['code']} — {md(titles[c['code']])}"
def slug(h):
    # GitHub's anchors: lower case, punctuation dropped (letters, digits, '_', '-' and spaces kept), spaces to '-'.
    return "".join(ch for ch in h.lower() if ch.isalnum() or ch in "_- ").replace(" ", "-")
for c in CASES:
    title = md(titles[c["code"]]).replace("|", "\\|")
    out.append(f"| [{c['code']}](#{slug(heading(c))}) | {c['sev']} | {title} |\n")
for c in CASES:
    if c.get("static"):
        out.append(f"\n## {heading(c)}\n\nSeverity: {c['sev']}. {c['when']}\n\n**Fix:** {c['fix']}\n")
        continue
    text, rc = run(c)
    expected_rc = 0 if c["sev"] != "error" else 1
    assert rc == expected_rc, (c["code"], rc, text)
    assert f"[{c['code']}]" in text, (c["code"], text)
    out.append(f"\n## {heading(c)}\n\nSeverity: {c['sev']}. {c['when']}\n\n")
    for name, ftext in c["files"].items():
        if name.endswith(".txt"): continue
        out.append(f"`{name}`:\n\n```yaml\n{ftext}```\n\n")
    out.append(f"```console\n$ {c['cmd']}\n{text}```\n\n")
    out.append(f"Exit code {rc}. **Fix:** {c['fix']}\n")
open(OUT, "w").write("".join(out))
print("wrote", OUT)
