#!/usr/bin/env python3
"""Runs a CI pipeline file (a GitHub Actions workflow or a GitLab CI file) on this machine, its steps verbatim.

Usage:
  scripts/ci-example-run.py PIPELINE --source DIR --context FILE --work DIR [--binary PATH] [--setpoint-source DIR]

It exists to prove that examples/ci/ runs (CIExampleTests runs it); it is not a general CI emulator.

- Jobs run in dependency order (GitHub `needs:`; GitLab `needs:`, else stages), each in a fresh folder
  WORK/jobs/JOB. GitHub `run:` steps run with bash as GitHub runs them (`shell: bash` is
  `bash --noprofile --norc -eo pipefail`, no shell given is `bash -e`); GitLab's before_script and script run in
  one bash with `set -eo pipefail`, as the GitLab runner's bash shell does. Nothing in a step is changed. Between
  GitLab script items the runner writes the item's number to a file of its own, to name the item that failed.
- `container:` / `image:` is not started: the steps run on this machine, which is Debian 12 like the images.
  apt-get steps run for real (this needs root).
- The context FILE (JSON) describes the event and the settings CI would give:
    {"event": "pull_request" | "push", "branch": "web-1", "defaultBranch": "main", "pullRequest": 7,
     "repository": "ops/infra", "actor": "alice", "runId": "101", "sha": "…",
     "secrets": {NAME: VALUE}, "vars": {NAME: VALUE},
     "github": {…merged over the github context}, "gitlab": {…merged over the predefined CI_ variables}}
  GitHub expressions read `secrets`, `vars`, `github`, `env`, `steps`, `needs` (`${{ … }}` in env:, with:,
  outputs:, run: and if:, with the operators and functions GitHub has: == != < > && || ! and always(), success(),
  failure(), cancelled(), contains(), startsWith(), endsWith(), format(), join(), toJSON(), fromJSON(),
  hashFiles()); GITHUB_OUTPUT, GITHUB_ENV, GITHUB_PATH and GITHUB_STEP_SUMMARY are honoured. In GitLab,
  secrets and vars are the project's CI/CD variables (they take precedence over the file's `variables:`);
  `workflow:rules`, `rules:` (if, when), `extends:`, `needs:`, `artifacts:` (paths, when, reports:dotenv) are
  honoured and manual jobs are played.
- Stubs: actions/checkout copies --source into the workspace (or --setpoint-source, for another repository);
  upload-artifact and download-artifact copy to and from WORK/artifacts/NAME (modes are not kept, as on GitHub);
  actions/cache does nothing; actions/github-script is the comment API: it does not run its script, it records the
  file the script reads (`fs.readFileSync('FILE')`) as the comment it would post. In GitLab the comment API is a
  `curl` to the merge request notes API: in the job that calls it, a recording `curl` comes first on PATH. Both
  write WORK/artifacts/comment.md and add to "comments" in the report.
- --binary PATH: the already-built setpoint stands for the build job's artifact and the build job's steps are not
  run (a cold release build takes minutes). The build job (the one that runs `swift build`) is then checked
  statically: its apt-get install line names every package of the `.apt([...])` providers in Package.swift (and
  in the dependencies' manifests under .build*/checkouts), and pkg-config.
- Always: every job that runs the binary (it downloads or needs the build job's artifact) has an apt-get install
  line that covers every shared library `ldd` reports for the binary — each library's Debian package (`dpkg -S`)
  is named on the line or is in debian:bookworm-slim (libc6, libgcc-s1, libstdc++6, zlib1g), and for libraries the
  binary does not link directly, may instead be one of the line's dependencies (`apt-cache depends --recurse`).
  Swift runtime libraries that belong to no package are accepted only when the build links them statically
  (--static-swift-stdlib). The line must also name prometheus (promtool) and prometheus-alertmanager (amtool), since
  under CI=true a missing checking tool is an error, and openssh-client (ssh, for the manifests' Hosts).

Prints every step with its exit code and writes WORK/report.json. Exit codes: 0 the pipeline succeeded; 1 a step
failed (the file, job and step are named; what CI still runs after a failure — `if: always()`, `when: always` — is
run); 2 the pipeline cannot be run, or a static check failed.
"""
import argparse
import copy
import glob
import hashlib
import json
import math
import os
import re
import shlex
import shutil
import struct
import subprocess
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
BASE_IMAGE_PACKAGES = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"}
TOOL_PACKAGES = {
    "prometheus": "promtool: AlertRuleGroups are checked with it, and under CI=true a missing checking tool is "
    "an error",
    "prometheus-alertmanager": "amtool: AlertRouting is checked with it, and under CI=true a missing checking tool is "
    "an error",
    "openssh-client": "ssh: Setpoint reaches the manifests' Hosts with /usr/bin/ssh",
}
SWIFT_RUNTIME = re.compile(r"^(libswift|libFoundation|lib_FoundationICU|libdispatch|libBlocksRuntime)")


class PipelineError(Exception):
    """The pipeline cannot be run as written, or a static check failed (exit 2)."""


def say(text=""):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def flatten(items):
    out = []
    for item in as_list(items):
        out.extend(flatten(item) if isinstance(item, list) else [item])
    return out


def deep_merge(base, extra):
    if isinstance(base, dict) and isinstance(extra, dict):
        merged = dict(base)
        for key, value in extra.items():
            merged[key] = deep_merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    return copy.deepcopy(extra)


def fresh_folder(path):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def copy_tree(source, destination, files=None):
    """Copies a folder (or only `files`, relative paths in it), symlinks as symlinks."""
    os.makedirs(destination, exist_ok=True)
    if files is None:
        shutil.copytree(source, destination, symlinks=True, dirs_exist_ok=True)
        return
    for name in files:
        src, dst = os.path.join(source, name), os.path.join(destination, name)
        if os.path.isdir(src) and not os.path.islink(src):
            continue
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst, follow_symlinks=False)


def place_file(src, dst, mode=None):
    """Copies a file; a large one (a binary) is hard-linked from the runner's own artifact store instead."""
    os.makedirs(os.path.dirname(dst) or ".", exist_ok=True)
    if os.path.lexists(dst):
        os.remove(dst)
    if os.path.getsize(src) > (1 << 20):
        os.link(src, dst)
    else:
        shutil.copy2(src, dst)
    if mode is not None:
        os.chmod(dst, mode)


def run_process(argv, env, cwd):
    """Runs a program with no standard input; its output (standard error too) is printed indented."""
    proc = subprocess.Popen(
        argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    for raw in proc.stdout:
        sys.stdout.write("    | " + raw.decode("utf-8", "replace").rstrip("\n") + "\n")
        sys.stdout.flush()
    return proc.wait()


# ---------------------------------------------------------------------------------------------------------------
# Static checks: apt-get install lines against Package.swift and against the binary's shared libraries.


def apt_install_packages(text):
    """The packages of every `apt-get install` (or `apt install`) command in a shell text."""
    text = re.sub(r"\\\n", " ", text)
    packages = []
    for line in text.splitlines():
        try:
            lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            tokens = list(lexer)
        except ValueError:
            continue
        i = 0
        while i < len(tokens):
            if tokens[i] in ("apt-get", "apt") and i + 1 < len(tokens):
                j = i + 1
                while j < len(tokens) and tokens[j].startswith("-"):
                    j += 1
                if j < len(tokens) and tokens[j] == "install":
                    j += 1
                    while j < len(tokens) and not re.fullmatch(r"[;&|()<>]+", tokens[j]):
                        if not tokens[j].startswith("-"):
                            packages.append(tokens[j].split("=")[0])  # NAME or NAME=VERSION
                        j += 1
                    i = j
                    continue
            i += 1
    return packages


def swift_apt_providers(setpoint_source):
    """`.apt([...])` provider packages of Package.swift and of the resolved dependencies' manifests."""
    manifests = [os.path.join(setpoint_source, "Package.swift")]
    build_folders = sorted(glob.glob(os.path.join(setpoint_source, ".build*")))
    if os.environ.get("SETPOINT_BUILD_PATH"):
        build_folders.append(os.path.join(setpoint_source, os.environ["SETPOINT_BUILD_PATH"]))
    for folder in build_folders:
        manifests += sorted(glob.glob(os.path.join(folder, "checkouts", "*", "Package.swift")))
    providers = {}
    uses_pkg_config = False
    for path in manifests:
        if not os.path.isfile(path):
            if path == manifests[0]:
                raise PipelineError(f"{path} not found: give --setpoint-source")
            continue
        with open(path) as f:
            text = f.read()
        uses_pkg_config = uses_pkg_config or ("pkgConfig:" in text and path == manifests[0])
        for group in re.findall(r"\.apt\(\s*\[([^\]]*)\]", text):
            for name in re.findall(r'"([^"]+)"', group):
                providers.setdefault(name, os.path.relpath(path, setpoint_source))
    if uses_pkg_config:
        providers.setdefault("pkg-config", "Package.swift (pkgConfig:)")
    return providers


def shared_libraries(binary):
    r = subprocess.run(["ldd", binary], capture_output=True, text=True)
    if r.returncode != 0:
        raise PipelineError(f"ldd {binary}: {(r.stderr or r.stdout).strip()}")
    libraries = []
    for line in r.stdout.splitlines():
        line = line.strip()
        if "=>" in line:
            name, rest = (s.strip() for s in line.split("=>", 1))
            path = rest.split(" (")[0].strip()
            if path == "not found":
                raise PipelineError(f"{binary} needs {name}, which this machine does not have")
            if path:
                libraries.append((name, path))
        elif line.startswith("/"):
            path = line.split(" (")[0].strip()
            libraries.append((os.path.basename(path), path))
    return libraries


def needed_libraries(binary):
    """DT_NEEDED entries of a 64-bit ELF file: the libraries it links directly."""
    with open(binary, "rb") as f:
        ident = f.read(16)
        if ident[:4] != b"\x7fELF" or ident[4] != 2:
            raise PipelineError(f"{binary} is not a 64-bit ELF file")
        e = "<" if ident[5] == 1 else ">"
        f.seek(0x28)
        (shoff,) = struct.unpack(e + "Q", f.read(8))
        f.seek(0x3A)
        shentsize, shnum, _ = struct.unpack(e + "HHH", f.read(6))
        sections = []
        for i in range(shnum):
            f.seek(shoff + i * shentsize)
            fields = struct.unpack(e + "IIQQQQIIQQ", f.read(64))
            sections.append((fields[1], fields[4], fields[5], fields[6]))  # type, offset, size, link
        names = []
        for kind, offset, size, link in sections:
            if kind != 6:  # SHT_DYNAMIC
                continue
            f.seek(offset)
            dynamic = f.read(size)
            f.seek(sections[link][1])
            strings = f.read(sections[link][2])
            for j in range(0, len(dynamic) - 15, 16):
                tag, value = struct.unpack(e + "qQ", dynamic[j : j + 16])
                if tag == 0:
                    break
                if tag == 1:
                    names.append(strings[value : strings.index(b"\0", value)].decode())
        return names


def package_owners(paths):
    """The Debian packages (`dpkg -S`) that own each path, trying its /usr-merged spellings; None when none does."""
    spellings = {}
    for path in paths:
        candidates = [path, os.path.realpath(path)]
        for c in list(candidates):
            if c.startswith("/usr/"):
                candidates.append(c[4:])
            else:
                candidates.append("/usr" + c)
        spellings[path] = list(dict.fromkeys(candidates))
    everything = sorted({c for cs in spellings.values() for c in cs})
    r = subprocess.run(["dpkg", "-S"] + everything, capture_output=True, text=True)
    found = {}
    for line in r.stdout.splitlines():
        if line.startswith("diversion ") or ": " not in line:
            continue
        packages, path = line.rsplit(": ", 1)
        found[path] = {p.strip().split(":")[0] for p in packages.split(",")}
    return {path: next((found[c] for c in cs if c in found), None) for path, cs in spellings.items()}


def install_closure(packages):
    """The packages and everything they depend on (Depends, Pre-Depends), as apt-get install would bring them."""
    r = subprocess.run(
        ["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts", "--no-breaks",
         "--no-replaces", "--no-enhances"] + sorted(packages),
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        raise PipelineError(f"apt-cache depends {' '.join(sorted(packages))}: {r.stderr.strip()} (apt-get update?)")
    closure = set()
    for line in r.stdout.splitlines():
        if line and not line[0].isspace():
            closure.add(line.strip().strip("<>").split(":")[0])
        else:
            m = re.match(r"\s*\|?(?:Pre)?Depends:\s*<?([^>\s]+)>?", line)
            if m:
                closure.add(m.group(1).split(":")[0])
    return closure


def check_runtime_lines(binary, jobs, build_links_swift_statically):
    """Problems with each runtime job's apt-get install line against the binary's libraries; and notes."""
    libraries = shared_libraries(binary)
    direct = set(needed_libraries(binary))
    owners = package_owners([path for _, path in libraries])
    problems, notes, swift_runtime = [], [], set()
    for job, line in jobs:
        named = set(line) | BASE_IMAGE_PACKAGES
        closure = install_closure(named)
        for package, why in TOOL_PACKAGES.items():
            if package not in line:
                problems.append(f"{job}: apt-get install does not name {package}, for {why}")
        for name, path in libraries:
            packages = owners[path]
            if packages is None:
                if SWIFT_RUNTIME.match(name) and build_links_swift_statically:
                    swift_runtime.add(name)
                else:
                    problems.append(f"{job}: {name} ({path}) belongs to no Debian package")
                continue
            if packages & named:
                continue
            listed = ", ".join(sorted(packages))
            if name in direct:
                problems.append(f"{job}: setpoint links {name} directly: apt-get install must name {listed}")
            elif not packages & closure:
                problems.append(
                    f"{job}: {name} ({listed}) is neither named by apt-get install, nor brought by what it names, "
                    "nor in debian:bookworm-slim"
                )
    if swift_runtime:
        notes.append(
            f"{len(swift_runtime)} Swift runtime libraries of this binary belong to no package "
            f"({', '.join(sorted(swift_runtime))}): the build links them statically (--static-swift-stdlib)"
        )
    return problems, notes, len(libraries)


# ---------------------------------------------------------------------------------------------------------------
# GitHub expressions.

TOKEN = re.compile(
    r"(?P<num>0x[0-9a-fA-F]+|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(?P<str>'(?:[^']|'')*')"
    r"|(?P<op>==|!=|<=|>=|&&|\|\||[!<>()\[\].,*])|(?P<id>[A-Za-z_][A-Za-z0-9_-]*)"
)
STATUS_FUNCTION = re.compile(r"\b(success|failure|always|cancelled)\s*\(", re.IGNORECASE)


def truthy(v):
    if v is None or v is False:
        return False
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return v != 0 and not math.isnan(v)
    if isinstance(v, str):
        return v != ""
    return True


def to_number(v):
    if v is None:
        return 0.0
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        s = v.strip()
        if s == "":
            return 0.0
        try:
            return float(int(s, 16)) if s.lower().startswith("0x") else float(s)
        except ValueError:
            return math.nan
    return math.nan


def kind_of(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    return "object"


def equals(a, b):
    if kind_of(a) == kind_of(b):
        if isinstance(a, str):
            return a.lower() == b.lower()
        if kind_of(a) == "object":
            return a is b
        return a == b
    return to_number(a) == to_number(b)


def to_text(v):
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, (dict, list)):
        return json.dumps(v, indent=2)
    return str(v)


def lookup(obj, key):
    if isinstance(obj, dict):
        if key in obj:
            return obj[key]
        if isinstance(key, str):
            for k, v in obj.items():
                if isinstance(k, str) and k.lower() == key.lower():
                    return v
        return None
    if isinstance(obj, list) and isinstance(key, (int, float)) and not isinstance(key, bool):
        i = int(key)
        return obj[i] if 0 <= i < len(obj) else None
    return None


class Expression:
    """A GitHub Actions expression (without `${{ }}`), evaluated against contexts."""

    def __init__(self, text, contexts, status, workspace):
        self.text, self.contexts, self.status, self.workspace = text, contexts, status, workspace
        self.tokens, pos = [], 0
        while pos < len(text):
            if text[pos].isspace():
                pos += 1
                continue
            m = TOKEN.match(text, pos)
            if not m:
                raise PipelineError(f"cannot read the expression {text!r} at {text[pos:]!r}")
            self.tokens.append((m.lastgroup, m.group(m.lastgroup)))
            pos = m.end()
        self.i = 0

    def value(self):
        v = self.or_()
        if self.i != len(self.tokens):
            raise PipelineError(f"unexpected {self.tokens[self.i][1]!r} in the expression {self.text!r}")
        return v

    def peek(self, *ops):
        return self.i < len(self.tokens) and self.tokens[self.i][0] == "op" and self.tokens[self.i][1] in ops

    def take(self, op):
        if not self.peek(op):
            raise PipelineError(f"expected {op!r} in the expression {self.text!r}")
        self.i += 1

    def or_(self):
        v = self.and_()
        while self.peek("||"):
            self.i += 1
            right = self.and_()
            v = v if truthy(v) else right
        return v

    def and_(self):
        v = self.equality()
        while self.peek("&&"):
            self.i += 1
            right = self.equality()
            v = right if truthy(v) else v
        return v

    def equality(self):
        v = self.comparison()
        while self.peek("==", "!="):
            op = self.tokens[self.i][1]
            self.i += 1
            right = self.comparison()
            v = equals(v, right) if op == "==" else not equals(v, right)
        return v

    def comparison(self):
        v = self.unary()
        while self.peek("<", ">", "<=", ">="):
            op = self.tokens[self.i][1]
            self.i += 1
            right = self.unary()
            if isinstance(v, str) and isinstance(right, str):
                a, b = v.lower(), right.lower()
            else:
                a, b = to_number(v), to_number(right)
            v = {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]
        return v

    def unary(self):
        if self.peek("!"):
            self.i += 1
            return not truthy(self.unary())
        return self.postfix()

    def postfix(self):
        v = self.primary()
        while True:
            if self.peek("."):
                self.i += 1
                kind, name = self.tokens[self.i]
                if kind != "id" and not (kind == "op" and name == "*"):
                    raise PipelineError(f"expected a property name in the expression {self.text!r}")
                self.i += 1
                v = lookup(v, name)
            elif self.peek("["):
                self.i += 1
                key = self.or_()
                self.take("]")
                v = lookup(v, key)
            else:
                return v

    def primary(self):
        if self.i >= len(self.tokens):
            raise PipelineError(f"the expression {self.text!r} ends too soon")
        kind, text = self.tokens[self.i]
        self.i += 1
        if kind == "num":
            n = float(int(text, 16)) if text.lower().startswith("0x") else float(text)
            return int(n) if n.is_integer() else n
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "op" and text == "(":
            v = self.or_()
            self.take(")")
            return v
        if kind == "id":
            low = text.lower()
            if low in ("true", "false"):
                return low == "true"
            if low == "null":
                return None
            if self.peek("("):
                self.i += 1
                args = []
                while not self.peek(")"):
                    args.append(self.or_())
                    if self.peek(","):
                        self.i += 1
                self.take(")")
                return self.call(low, args)
            if low not in self.contexts:
                raise PipelineError(f"unknown context {text!r} in the expression {self.text!r}")
            return self.contexts[low]
        raise PipelineError(f"unexpected {text!r} in the expression {self.text!r}")

    def call(self, name, args):
        if name == "always":
            return True
        if name == "success":
            return self.status == "success"
        if name == "failure":
            return self.status == "failure"
        if name == "cancelled":
            return False
        if name == "contains":
            haystack, needle = args
            if isinstance(haystack, list):
                return any(equals(x, needle) for x in haystack)
            return to_text(needle).lower() in to_text(haystack).lower()
        if name == "startswith":
            return to_text(args[0]).lower().startswith(to_text(args[1]).lower())
        if name == "endswith":
            return to_text(args[0]).lower().endswith(to_text(args[1]).lower())
        if name == "format":
            fmt, rest = to_text(args[0]), args[1:]
            fmt = fmt.replace("{{", "\0").replace("}}", "\1")
            fmt = re.sub(r"\{(\d+)\}", lambda m: to_text(rest[int(m.group(1))]), fmt)
            return fmt.replace("\0", "{").replace("\1", "}")
        if name == "join":
            sep = to_text(args[1]) if len(args) > 1 else ","
            return sep.join(to_text(x) for x in as_list(args[0]))
        if name == "tojson":
            return json.dumps(args[0], indent=2)
        if name == "fromjson":
            return json.loads(to_text(args[0]))
        if name == "hashfiles":
            digest, found = hashlib.sha256(), False
            for pattern in args:
                for path in sorted(glob.glob(os.path.join(self.workspace, to_text(pattern)), recursive=True)):
                    if os.path.isfile(path):
                        with open(path, "rb") as f:
                            digest.update(hashlib.sha256(f.read()).digest())
                        found = True
            return digest.hexdigest() if found else ""
        raise PipelineError(f"the runner does not know the function {name}() in {self.text!r}")


# ---------------------------------------------------------------------------------------------------------------
# The run: what both kinds share.


class Run:
    def __init__(self, args, kind, document):
        self.args, self.kind, self.document = args, kind, document
        self.file = args.pipeline
        self.work = os.path.abspath(args.work)
        self.source = os.path.abspath(args.source)
        self.setpoint_source = os.path.abspath(args.setpoint_source)
        self.binary = os.path.abspath(args.binary) if args.binary else None
        with open(args.context) as f:
            self.context = json.load(f)
        if self.context.get("event") not in ("pull_request", "push"):
            raise PipelineError('the context must say "event": "pull_request" or "push"')
        self.artifacts = fresh_folder(os.path.join(self.work, "artifacts"))
        fresh_folder(os.path.join(self.work, "jobs"))
        self.home = fresh_folder(os.path.join(self.work, "home"))
        self.tmp = fresh_folder(os.path.join(self.work, "tmp"))
        self.report = {"file": self.file, "kind": kind, "event": self.context["event"], "ok": None, "failure": None,
                       "checks": [], "jobs": [], "comments": []}
        self.first_failure = None

    def sha(self):
        if self.context.get("sha"):
            return self.context["sha"]
        r = subprocess.run(["git", "-C", self.source, "rev-parse", "HEAD"], capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else "0" * 40

    def base_environment(self):
        return {
            "PATH": os.environ.get("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
            "HOME": self.home,
            "LANG": "C.UTF-8",
            "TMPDIR": self.tmp,
            "CI": "true",
        }

    def check(self, name, problems, notes=()):
        self.report["checks"].append({"check": name, "ok": not problems, "problems": problems, "notes": list(notes)})
        for note in notes:
            say(f"   note: {note}")
        if problems:
            raise PipelineError(f"{self.file}: {name}:\n  " + "\n  ".join(problems))
        say(f"   check passed: {name}")

    def check_build_line(self, job, text):
        providers = swift_apt_providers(self.setpoint_source)
        line = set(apt_install_packages(text))
        problems = [
            f"{job}: apt-get install does not name {package}, a provider in {where}"
            for package, where in sorted(providers.items())
            if package not in line
        ]
        self.check(f"the build job's apt-get install line names the {len(providers)} packages Package.swift needs",
                   problems)

    def check_runtime(self, binary, jobs, build_text):
        if not jobs:
            raise PipelineError(f"{self.file}: no job runs the built binary")
        static = "--static-swift-stdlib" in build_text
        problems, notes, count = check_runtime_lines(binary, jobs, static)
        self.check(
            f"the apt-get install lines of {', '.join(j for j, _ in jobs)} cover the {count} shared libraries of "
            f"{os.path.basename(binary)} and the tools",
            problems,
            notes,
        )

    def record_comment(self, comment):
        self.report["comments"].append(comment)
        with open(os.path.join(self.artifacts, "comment.md"), "w") as f:
            f.write(comment.get("body") or "")
        say(f"   comment recorded ({len(comment.get('body') or '')} characters): {self.artifacts}/comment.md")

    def fail(self, job, step, code):
        if self.first_failure is None:
            self.first_failure = {"job": job, "step": step, "exitCode": code}

    def finish(self):
        self.report["ok"] = self.first_failure is None
        self.report["failure"] = self.first_failure
        with open(os.path.join(self.work, "report.json"), "w") as f:
            json.dump(self.report, f, indent=2)
        if self.first_failure:
            f = self.first_failure
            say(f"\nFAILED {self.file}: job '{f['job']}', step '{f['step']}' exited {f['exitCode']}")
            return 1
        ran = sum(1 for j in self.report["jobs"] if j["status"] == "success")
        skipped = sum(1 for j in self.report["jobs"] if j["status"] == "skipped")
        say(f"\nok {self.file}: {ran} jobs succeeded, {skipped} skipped (report: {self.work}/report.json)")
        return 0

    def order(self, names, dependencies):
        """Jobs in dependency order, keeping the file's order where nothing decides."""
        done, ordered = set(), []

        def visit(name, trail):
            if name in done:
                return
            if name in trail:
                raise PipelineError(f"{self.file}: the jobs' needs form a cycle: {' -> '.join(trail + [name])}")
            for dep in dependencies(name):
                if dep not in names:
                    raise PipelineError(f"{self.file}: job {name} needs {dep}, which does not exist")
                visit(dep, trail + [name])
            done.add(name)
            ordered.append(name)

        for name in names:
            visit(name, [])
        return ordered


# ---------------------------------------------------------------------------------------------------------------
# GitHub Actions.


class GitHubRun(Run):
    def __init__(self, args, document):
        super().__init__(args, "github", document)
        c = self.context
        event, branch = c["event"], c.get("branch") or c.get("defaultBranch") or "main"
        default = c.get("defaultBranch") or "main"
        repository = c.get("repository") or "ops/infra"
        github = {
            "event_name": event,
            "repository": repository,
            "repository_owner": repository.split("/")[0],
            "sha": self.sha(),
            "actor": c.get("actor") or "ci-example",
            "run_id": str(c.get("runId") or "1"),
            "run_number": str(c.get("runId") or "1"),
            "run_attempt": "1",
            "server_url": c.get("serverURL") or "https://github.com",
            "api_url": (c.get("serverURL") or "https://api.github.com"),
            "workflow": document.get("name") or os.path.basename(self.file),
            "event": {"repository": {"full_name": repository, "default_branch": default}},
        }
        if event == "pull_request":
            number = int(c.get("pullRequest") or 1)
            github.update(ref=f"refs/pull/{number}/merge", ref_name=f"{number}/merge", head_ref=branch,
                          base_ref=c.get("baseBranch") or default)
            github["event"].update(
                number=number,
                pull_request={
                    "number": number,
                    "head": {"sha": github["sha"], "ref": branch,
                             "repo": {"full_name": c.get("headRepository") or repository}},
                    "base": {"ref": c.get("baseBranch") or default, "repo": {"full_name": repository}},
                },
            )
        else:
            github.update(ref=f"refs/heads/{branch}", ref_name=branch, head_ref="", base_ref="")
            github["event"].update(ref=f"refs/heads/{branch}", after=github["sha"])
        self.github = deep_merge(github, c.get("github") or {})
        self.secrets = dict(c.get("secrets") or {})
        self.secrets.setdefault("GITHUB_TOKEN", "ghs_ci-example-run")
        self.vars = dict(c.get("vars") or {})
        self.jobs = document.get("jobs") or {}
        self.results = {}  # job -> {"result", "outputs"}
        self.workflow_env = {}

    def expression(self, text, contexts, status="success", workspace="."):
        return Expression(text, contexts, status, workspace).value()

    def interpolate(self, value, contexts, workspace="."):
        if not isinstance(value, str):
            return to_text(value) if not isinstance(value, (dict, list)) else value
        out, pos = [], 0
        while True:
            start = value.find("${{", pos)
            if start < 0:
                out.append(value[pos:])
                return "".join(out)
            out.append(value[pos:start])
            i, quoted = start + 3, False
            while i < len(value) - 1 and (quoted or value[i : i + 2] != "}}"):
                quoted = not quoted if value[i] == "'" else quoted
                i += 1
            if i >= len(value) - 1:
                raise PipelineError(f"unclosed ${{{{ in {value!r}")
            out.append(to_text(self.expression(value[start + 3 : i], contexts, workspace=workspace)))
            pos = i + 2

    def condition(self, text, contexts, status, workspace="."):
        if text is None:
            text = "success()"
        if isinstance(text, bool):
            return text
        text = str(text).strip()
        if text.startswith("${{") and text.endswith("}}"):
            text = text[3:-2]
        if not STATUS_FUNCTION.search(text):
            text = f"success() && ({text})"
        return truthy(self.expression(text, contexts, status, workspace))

    def contexts(self, env=None, steps=None, needs=None, job=None):
        return {"github": self.github, "secrets": self.secrets, "vars": self.vars, "env": env or {},
                "steps": steps or {}, "needs": needs or {}, "job": job or {"status": "success"},
                "runner": {"os": "Linux", "arch": "X64", "temp": self.tmp}, "inputs": {}, "matrix": {},
                "strategy": {}}

    def evaluate_env(self, mapping, contexts, workspace="."):
        result = {}
        for key, value in (mapping or {}).items():
            ctx = dict(contexts, env={**contexts["env"], **result})
            result[str(key)] = self.interpolate(value if isinstance(value, str) else to_text(value), ctx, workspace)
        return result

    def triggered(self):
        on = self.document.get("on", self.document.get(True))
        events = on if isinstance(on, dict) else {e: None for e in as_list(on)}
        if self.github["event_name"] not in events:
            return False, f"the workflow does not run on {self.github['event_name']}"
        spec = events[self.github["event_name"]] or {}
        branch = self.github["ref_name"] if self.github["event_name"] == "push" else self.github.get("base_ref")
        patterns = as_list(spec.get("branches")) if isinstance(spec, dict) else []
        if patterns and not any(glob_match(p, branch) for p in patterns):
            return False, f"branch {branch} is not in {patterns}"
        if isinstance(spec, dict) and spec.get("paths"):
            say("   note: on.*.paths is not checked: the runner assumes a matching path changed")
        return True, ""

    def build_job(self):
        found = [name for name, job in self.jobs.items() if "swift build" in self.job_text(job)]
        if len(found) != 1:
            raise PipelineError(f"{self.file}: expected one job that runs `swift build`, found {found}")
        return found[0]

    @staticmethod
    def job_text(job):
        return "\n".join(str(s.get("run", "")) for s in job.get("steps") or [])

    def uploads(self, job):
        steps = self.jobs[job].get("steps") or []
        return [s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact")]

    def runtime_jobs(self, build):
        names = {str((s.get("with") or {}).get("name", "artifact")) for s in self.uploads(build)}
        result = []
        for name, job in self.jobs.items():
            steps = job.get("steps") or []
            if any(str(s.get("uses", "")).startswith("actions/download-artifact")
                   and str((s.get("with") or {}).get("name")) in names for s in steps):
                result.append((name, apt_install_packages(self.job_text(job))))
        return result

    def run(self):
        if self.document.get("jobs") is None:
            raise PipelineError(f"{self.file}: no jobs")
        say(f"== {self.file}: GitHub Actions workflow '{self.github['workflow']}', event {self.github['event_name']} "
            f"({self.github['ref']})")
        runs, why = self.triggered()
        if not runs:
            say(f"   not triggered: {why}")
            return self.finish()
        for unsupported in ("services", "strategy"):
            for name, job in self.jobs.items():
                if unsupported in job:
                    raise PipelineError(f"{self.file}: job {name} uses {unsupported}:, which the runner does not run")
        build = self.build_job()
        build_text = self.job_text(self.jobs[build])
        self.workflow_env = self.evaluate_env(self.document.get("env"), self.contexts())
        order = self.order(list(self.jobs), lambda n: [str(x) for x in as_list(self.jobs[n].get("needs"))])
        for name in order:
            if name == build and self.binary:
                self.provide_build(name, build_text)
            else:
                self.run_job(name)
            if name == build and self.results[name]["result"] == "success":
                self.check_runtime(self.binary or self.built_binary(name), self.runtime_jobs(name), build_text)
        return self.finish()

    def provide_build(self, name, build_text):
        say(f"\n== job {name}: not run (--binary {self.binary} stands for its artifact)")
        self.check_build_line(name, build_text)
        for step in self.uploads(name):
            with_ = step.get("with") or {}
            paths = [p for p in str(with_.get("path", "")).splitlines() if p.strip()]
            if len(paths) != 1 or any(ch in paths[0] for ch in "*?[!"):
                raise PipelineError(f"{self.file}: {name} uploads {paths}: --binary can stand only for one file")
            target = os.path.join(self.artifacts, str(with_.get("name", "artifact")), os.path.basename(paths[0]))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(self.binary, target)
            say(f"   artifact {with_.get('name', 'artifact')}: {os.path.basename(paths[0])} <- {self.binary}")
        self.results[name] = {"result": "success", "outputs": {}}
        self.report["jobs"].append({"job": name, "status": "success", "provided": True, "steps": [], "outputs": {}})

    def built_binary(self, build):
        for step in self.uploads(build):
            folder = os.path.join(self.artifacts, str((step.get("with") or {}).get("name", "artifact")))
            for root, _, files in os.walk(folder):
                if "setpoint" in files:
                    return os.path.join(root, "setpoint")
        raise PipelineError(f"{self.file}: the build job uploaded no file named setpoint")

    def run_job(self, name):
        job = self.jobs[name]
        needs = [str(x) for x in as_list(job.get("needs"))]
        needs_ctx = {n: {"result": self.results[n]["result"], "outputs": self.results[n]["outputs"]} for n in needs}
        status = "success" if all(self.results[n]["result"] == "success" for n in needs) else "failure"
        entry = {"job": name, "status": "skipped", "steps": [], "outputs": {}}
        self.report["jobs"].append(entry)
        base_ctx = self.contexts(env=self.workflow_env, needs=needs_ctx)
        if not self.condition(job.get("if"), base_ctx, status):
            say(f"\n== job {name}: skipped (if: {job.get('if', 'success()')})")
            self.results[name] = {"result": "skipped", "outputs": {}}
            return
        workspace = fresh_folder(os.path.join(self.work, "jobs", name))
        files = fresh_folder(os.path.join(self.work, "jobs", name + ".runner"))
        say(f"\n== job {name}" + (f" ({job['name']})" if job.get("name") else ""))
        container = job.get("container")
        image = container.get("image") if isinstance(container, dict) else container
        if image:
            say(f"   container {image}: not started; the steps run on this machine")
        if job.get("environment"):
            say(f"   environment {job['environment']}: its protection rules are taken as passed")
        job_env = dict(self.workflow_env)
        if isinstance(container, dict) and container.get("env"):
            job_env.update(self.evaluate_env(container["env"], self.contexts(env=job_env, needs=needs_ctx)))
        job_env.update(self.evaluate_env(job.get("env"), self.contexts(env=job_env, needs=needs_ctx), workspace))
        defaults = deep_merge((self.document.get("defaults") or {}).get("run") or {},
                              (job.get("defaults") or {}).get("run") or {})
        added_env, added_path, steps_ctx, failed = {}, [], {}, False
        summary = os.path.join(self.artifacts, "summary.md")
        for index, step in enumerate(job.get("steps") or []):
            label = step.get("name") or (f"Run {str(step['run']).splitlines()[0]}" if step.get("run")
                                         else step.get("uses", f"step {index + 1}"))
            env_now = {**job_env, **added_env}
            ctx = self.contexts(env=env_now, steps=steps_ctx, needs=needs_ctx,
                                job={"status": "failure" if failed else "success"})
            if not self.condition(step.get("if"), ctx, "failure" if failed else "success", workspace):
                say(f"-- step '{label}': skipped")
                entry["steps"].append({"step": label, "status": "skipped"})
                if step.get("id"):
                    steps_ctx[step["id"]] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
                continue
            step_env = {**env_now, **self.evaluate_env(step.get("env"), ctx, workspace)}
            paths = {n: os.path.join(files, f"{n}-{index}") for n in ("output", "env", "path", "summary")}
            for p in paths.values():
                open(p, "w").close()
            environment = self.base_environment()
            environment.update({
                "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": workspace, "GITHUB_EVENT_NAME": self.github["event_name"],
                "GITHUB_REPOSITORY": self.github["repository"], "GITHUB_REF": self.github["ref"],
                "GITHUB_REF_NAME": self.github["ref_name"], "GITHUB_SHA": self.github["sha"],
                "GITHUB_ACTOR": self.github["actor"], "GITHUB_RUN_ID": self.github["run_id"],
                "GITHUB_RUN_NUMBER": self.github["run_number"], "GITHUB_SERVER_URL": self.github["server_url"],
                "GITHUB_JOB": name, "GITHUB_HEAD_REF": self.github.get("head_ref", ""),
                "GITHUB_BASE_REF": self.github.get("base_ref", ""), "GITHUB_OUTPUT": paths["output"],
                "GITHUB_ENV": paths["env"], "GITHUB_PATH": paths["path"], "GITHUB_STEP_SUMMARY": paths["summary"],
                "RUNNER_TEMP": self.tmp, "RUNNER_OS": "Linux",
            })
            if added_path:
                environment["PATH"] = ":".join(reversed(added_path)) + ":" + environment["PATH"]
            environment.update(step_env)
            say(f"-- step '{label}'")
            if "run" in step:
                code = self.run_step(step, defaults, environment, workspace, ctx)
            elif "uses" in step:
                code = self.action(name, label, step, ctx, workspace)
            else:
                raise PipelineError(f"{self.file}: job {name}, step {label}: neither run: nor uses:")
            outputs = read_key_values(paths["output"])
            added_env.update(read_key_values(paths["env"]))
            with open(paths["path"]) as f:
                added_path += [line.strip() for line in f if line.strip()]
            with open(paths["summary"]) as f:
                text = f.read()
            if text:
                with open(summary, "a") as out:
                    out.write(f"<!-- job {name}, step {label} -->\n{text}\n")
            ok = code == 0
            allowed = step.get("continue-on-error", False)
            tolerated = not ok and (allowed is True or self.interpolate(str(allowed), ctx).strip() == "true")
            say(f"   exit {code}" + ("" if ok else " (continue-on-error)" if tolerated else " FAILED"))
            entry["steps"].append({"step": label, "exitCode": code, "status": "success" if ok else "failure",
                                   "outputs": outputs})
            if step.get("id"):
                steps_ctx[step["id"]] = {"outputs": outputs, "outcome": "success" if ok else "failure",
                                         "conclusion": "success" if ok or tolerated else "failure"}
            if not ok and not tolerated:
                failed = True
                self.fail(name, label, code)
        outputs = {}
        ctx = self.contexts(env={**job_env, **added_env}, steps=steps_ctx, needs=needs_ctx)
        for key, value in (job.get("outputs") or {}).items():
            outputs[str(key)] = self.interpolate(value, ctx, workspace)
        result = "failure" if failed else "success"
        entry.update(status=result, outputs=outputs)
        self.results[name] = {"result": result, "outputs": outputs}
        say(f"   job {name}: {result}" + (f", outputs {outputs}" if outputs else ""))

    def run_step(self, step, defaults, environment, workspace, ctx):
        if not isinstance(step["run"], str):
            raise PipelineError(f"{self.file}: run: {step['run']!r} is not a string (quote it, or use a | block)")
        script = self.interpolate(step["run"], ctx, workspace)
        shell = step.get("shell") or defaults.get("shell")
        cwd = os.path.join(workspace, step.get("working-directory") or defaults.get("working-directory") or ".")
        if shell in (None, ""):
            argv = ["bash", "-e", "-c", script]
        elif shell == "bash":
            argv = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script]
        elif shell == "sh":
            argv = ["sh", "-e", "-c", script]
        elif "{0}" in str(shell):
            path = os.path.join(self.tmp, f"step-{os.getpid()}-{abs(hash(script))}.sh")
            with open(path, "w") as f:
                f.write(script)
            argv = [part.replace("{0}", path) for part in shlex.split(shell)]
        else:
            raise PipelineError(f"{self.file}: the runner does not run shell: {shell}")
        return run_process(argv, environment, cwd)

    def action(self, job, label, step, ctx, workspace):
        uses = str(step["uses"])
        action = uses.split("@")[0].lower()
        with_ = {str(k): self.interpolate(v, ctx, workspace) for k, v in (step.get("with") or {}).items()}
        if action == "actions/checkout":
            repository = with_.get("repository") or self.github["repository"]
            target = os.path.normpath(os.path.join(workspace, with_.get("path") or "."))
            if repository.lower() == self.github["repository"].lower():
                copy_tree(self.source, target)
                say(f"   checkout (stub): {self.source} -> {target}")
            else:
                copy_tree(self.setpoint_source, target, tracked_files(self.setpoint_source))
                say(f"   checkout (stub) of {repository}@{with_.get('ref', '')}: {self.setpoint_source} -> {target}")
            return 0
        if action == "actions/cache":
            say("   cache (stub): nothing restored or saved")
            return 0
        if action == "actions/upload-artifact":
            return self.upload(with_, workspace)
        if action == "actions/download-artifact":
            return self.download(with_, workspace)
        if action == "actions/github-script":
            return self.github_script(job, label, with_, workspace)
        raise PipelineError(f"{self.file}: job {job}, step {label}: no stub for {uses}")

    def upload(self, with_, workspace):
        name = with_.get("name") or "artifact"
        folder = os.path.join(self.artifacts, name)
        if os.path.exists(folder):
            say(f"   upload-artifact (stub): an artifact named {name} exists already")
            return 1
        matched = []
        for pattern in [p.strip() for p in str(with_.get("path", "")).splitlines() if p.strip()]:
            hits = sorted(glob.glob(os.path.join(workspace, pattern), recursive=True))
            matched += [h for h in hits if os.path.exists(h)]
        files = []
        for path in matched:
            if os.path.isdir(path):
                files += [os.path.join(r, f) for r, _, fs in os.walk(path) for f in fs]
            else:
                files.append(path)
        if not files:
            how = with_.get("if-no-files-found") or "warn"
            say(f"   upload-artifact (stub) {name}: no files found ({how})")
            return 1 if how == "error" else 0
        root = os.path.commonpath([p if os.path.isdir(p) else os.path.dirname(p) for p in matched])
        for path in files:
            place_file(path, os.path.join(folder, os.path.relpath(path, root)))
        say(f"   upload-artifact (stub) {name}: {', '.join(sorted(os.path.relpath(p, root) for p in files))}")
        return 0

    def download(self, with_, workspace):
        target = os.path.normpath(os.path.join(workspace, with_.get("path") or "."))
        names = [with_["name"]] if with_.get("name") else sorted(os.listdir(self.artifacts))
        for name in names:
            folder = os.path.join(self.artifacts, name)
            if not os.path.isdir(folder):
                say(f"   download-artifact (stub): no artifact named {name}")
                return 1
            destination = target if with_.get("name") else os.path.join(target, name)
            for root, _, files in os.walk(folder):
                for f in files:
                    src = os.path.join(root, f)
                    place_file(src, os.path.join(destination, os.path.relpath(src, folder)), mode=0o644)
            say(f"   download-artifact (stub) {name} -> {destination} (modes not kept, as on GitHub)")
        return 0

    def github_script(self, job, label, with_, workspace):
        script = with_.get("script", "")
        files = re.findall(r"readFileSync\(\s*['\"]([^'\"]+)['\"]", script)
        calls = sorted(set(re.findall(r"github\.rest\.issues\.(createComment|updateComment)", script)))
        permissions = self.jobs[job].get("permissions", self.document.get("permissions"))
        if isinstance(permissions, dict) and permissions.get("pull-requests") != "write":
            say("   github-script (stub): the job's GITHUB_TOKEN lacks pull-requests: write: it cannot comment")
            return 1
        if len(files) != 1 or not calls:
            say(f"   github-script (stub): cannot tell what it would post (files read: {files}, calls: {calls})")
            return 1
        path = os.path.join(workspace, files[0])
        if not os.path.isfile(path):
            say(f"   github-script (stub): {files[0]} does not exist")
            return 1
        with open(path) as f:
            body = f.read()
        self.record_comment({"job": job, "step": label, "via": "actions/github-script", "calls": calls,
                             "bodyFile": files[0], "body": body})
        return 0


def glob_match(pattern, text):
    regex = re.escape(str(pattern)).replace(r"\*\*", ".*").replace(r"\*", "[^/]*").replace(r"\?", ".")
    return re.fullmatch(regex, text or "") is not None


def tracked_files(folder):
    r = subprocess.run(["git", "-C", folder, "ls-files", "-co", "--exclude-standard"], capture_output=True, text=True)
    if r.returncode != 0:
        raise PipelineError(f"{folder} is not a git work tree: cannot stand for the Setpoint repository")
    return [line for line in r.stdout.splitlines() if os.path.lexists(os.path.join(folder, line))]


def read_key_values(path):
    """GITHUB_OUTPUT / GITHUB_ENV / dotenv: NAME=value lines and NAME<<DELIMITER blocks."""
    result = {}
    if not os.path.exists(path):
        return result
    with open(path) as f:
        lines = f.read().splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^([A-Za-z_][A-Za-z0-9_-]*)<<(.+)$", line)
        if m:
            end, block = m.group(2), []
            i += 1
            while i < len(lines) and lines[i] != end:
                block.append(lines[i])
                i += 1
            result[m.group(1)] = "\n".join(block)
        elif "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            result[key.strip()] = value
        i += 1
    return result


# ---------------------------------------------------------------------------------------------------------------
# GitLab CI.

GITLAB_RESERVED = {"stages", "variables", "workflow", "default", "include", "image", "services", "before_script",
                   "after_script", "cache", "pages"}
GITLAB_TOKEN = re.compile(
    r"\s*(?:(?P<var>\$\{?[A-Za-z_][A-Za-z0-9_]*\}?)|(?P<str>\"[^\"]*\"|'[^']*')|(?P<null>null\b)"
    r"|(?P<re>/(?:\\.|[^/])*/[a-z]*)|(?P<op>==|!=|=~|!~|&&|\|\||[()]))"
)
CURL_STUB = r'''#!/usr/bin/env python3
"""curl, as ci-example-run.py puts it first on PATH in the job that calls the merge request notes API: it records
the request (headers that carry a token masked) and answers as GitLab would, without contacting anything."""
import json, os, sys
args, record = sys.argv[1:], os.environ["CI_EXAMPLE_RUN_RECORD"]
method, url, headers, fields = None, None, [], {}
takes_value = {"-o", "--output", "-w", "--write-out", "-u", "--user", "--connect-timeout", "-m", "--max-time",
               "--retry", "--retry-delay", "--cacert", "-A", "--user-agent", "-e", "--referer"}
def data(spec, urlencode):
    name, value = None, spec
    if urlencode and "@" in spec and "=" not in spec.split("@", 1)[0]:
        name, path = spec.split("@", 1)
        value = open(path).read()
    elif urlencode and "=" in spec:
        name, value = spec.split("=", 1)
    elif spec.startswith("@"):
        value = open(spec[1:]).read()
    if name is None and "=" in value and not urlencode:
        for part in value.split("&"):
            k, _, v = part.partition("=")
            fields[k] = v
    else:
        fields[name or ""] = value
i = 0
while i < len(args):
    a = args[i]
    if a in ("-X", "--request"):
        method = args[i + 1]; i += 2; continue
    if a in ("-H", "--header"):
        name, _, value = args[i + 1].partition(":")
        secret = name.strip().lower() in ("private-token", "job-token", "authorization")
        headers.append(name + ": " + ("***" + (" (empty)" if not value.strip() else "") if secret else value.strip()))
        i += 2; continue
    if a == "--data-urlencode":
        data(args[i + 1], True); i += 2; continue
    if a in ("-d", "--data", "--data-raw", "--data-binary"):
        data(args[i + 1], False); i += 2; continue
    if a in ("-F", "--form"):
        name, _, value = args[i + 1].partition("=")
        fields[name] = open(value[1:]).read() if value[:1] in ("<", "@") else value
        i += 2; continue
    if a in takes_value:
        i += 2; continue
    if a.startswith("-"):
        i += 1; continue
    url = a; i += 1
request = {"via": "curl", "method": method or ("POST" if fields else "GET"), "url": url, "headers": headers,
           "fields": fields, "body": fields.get("body")}
with open(os.path.join(record, "requests.jsonl"), "a") as f:
    f.write(json.dumps(request) + "\n")
print(json.dumps({"id": 1, "noteable_type": "MergeRequest"}))
'''


def gitlab_expand(value, variables):
    """$NAME and ${NAME} in a variable's value, as GitLab expands them ($$ is a literal $)."""

    def one(m):
        if m.group(0) == "$$":
            return "$"
        return variables.get(m.group(1) or m.group(2), "")

    return re.sub(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", one, str(value))


class GitLabCondition:
    """A `rules:if` expression: $VAR, "strings", null, /regex/, == != =~ !~ && || and parentheses."""

    def __init__(self, text, variables):
        self.text, self.variables, self.tokens, pos = text, variables, [], 0
        while pos < len(text):
            m = GITLAB_TOKEN.match(text, pos)
            if not m or m.end() == pos:
                if text[pos:].strip() == "":
                    break
                raise PipelineError(f"cannot read the rule {text!r} at {text[pos:]!r}")
            self.tokens.append((m.lastgroup, m.group(m.lastgroup)))
            pos = m.end()
        self.i = 0

    def value(self):
        v = self.or_()
        if self.i != len(self.tokens):
            raise PipelineError(f"unexpected {self.tokens[self.i][1]!r} in the rule {self.text!r}")
        return v

    def peek(self, op):
        return self.i < len(self.tokens) and self.tokens[self.i] == ("op", op)

    def or_(self):
        v = self.and_()
        while self.peek("||"):
            self.i += 1
            v = self.and_() or v
        return v

    def and_(self):
        v = self.comparison()
        while self.peek("&&"):
            self.i += 1
            right = self.comparison()
            v = v and right
        return v

    def operand(self):
        kind, text = self.tokens[self.i]
        self.i += 1
        if kind == "var":
            return self.variables.get(text.strip("${}"))
        if kind == "str":
            return text[1:-1]
        if kind == "null":
            return None
        if kind == "re":
            return re.compile(text[1 : text.rindex("/")], re.IGNORECASE if "i" in text[text.rindex("/"):] else 0)
        raise PipelineError(f"unexpected {text!r} in the rule {self.text!r}")

    def comparison(self):
        if self.peek("("):
            self.i += 1
            v = self.or_()
            if not self.peek(")"):
                raise PipelineError(f"missing ) in the rule {self.text!r}")
            self.i += 1
            return v
        left = self.operand()
        if self.i < len(self.tokens) and self.tokens[self.i][0] == "op" and self.tokens[self.i][1] in ("==", "!=",
                                                                                                        "=~", "!~"):
            op = self.tokens[self.i][1]
            self.i += 1
            right = self.operand()
            if op in ("==", "!="):
                return (left == right) == (op == "==")
            matched = isinstance(right, re.Pattern) and left is not None and right.search(left) is not None
            return matched == (op == "=~")
        return left is not None and left != ""


class GitLabRun(Run):
    def __init__(self, args, document):
        super().__init__(args, "gitlab", document)
        if "include" in document:
            raise PipelineError(f"{self.file}: include: is not supported by the runner")
        c = self.context
        default = c.get("defaultBranch") or "main"
        branch = c.get("branch") or default
        repository = c.get("repository") or "ops/infra"
        server = c.get("serverURL") or "https://gitlab.example.net"
        sha = self.sha()
        predefined = {
            "CI": "true", "GITLAB_CI": "true", "CI_SERVER": "yes", "CI_SERVER_URL": server,
            "CI_API_V4_URL": server + "/api/v4", "CI_PROJECT_PATH": repository,
            "CI_PROJECT_ID": str(c.get("projectId") or 1),
            "CI_PROJECT_NAME": repository.split("/")[-1], "CI_DEFAULT_BRANCH": default, "CI_COMMIT_SHA": sha,
            "CI_COMMIT_SHORT_SHA": sha[:8], "CI_COMMIT_REF_NAME": branch, "CI_PIPELINE_ID": str(c.get("runId") or 1),
            "CI_PIPELINE_URL": f"{server}/{repository}/-/pipelines/{c.get('runId') or 1}",
            "GITLAB_USER_LOGIN": c.get("actor") or "ci-example",
        }
        if c["event"] == "pull_request":
            predefined.update(
                CI_PIPELINE_SOURCE="merge_request_event", CI_MERGE_REQUEST_IID=str(c.get("pullRequest") or 1),
                CI_MERGE_REQUEST_SOURCE_BRANCH_NAME=branch,
                CI_MERGE_REQUEST_TARGET_BRANCH_NAME=c.get("baseBranch") or default,
            )
        else:
            predefined.update(CI_PIPELINE_SOURCE="push", CI_COMMIT_BRANCH=branch)
        predefined.update({k: str(v) for k, v in (c.get("gitlab") or {}).items()})
        self.predefined = predefined
        project = {**(c.get("vars") or {}), **(c.get("secrets") or {})}
        self.project_variables = {str(k): str(v) for k, v in project.items()}
        self.global_variables = self.yaml_variables(document.get("variables"), dict(predefined))
        self.jobs = {}
        for name, job in document.items():
            if isinstance(name, str) and not name.startswith(".") and name not in GITLAB_RESERVED:
                if not isinstance(job, dict):
                    raise PipelineError(f"{self.file}: {name} is not a job")
                self.jobs[name] = self.resolve(name, [])
        self.stages = document.get("stages") or ["build", "test", "deploy"]
        self.results = {}  # job -> {"result", "dotenv"}
        self.job_counter = 0

    def yaml_variables(self, mapping, known):
        result = {}
        for key, value in (mapping or {}).items():
            if isinstance(value, dict):
                value = value.get("value", "")
            result[str(key)] = gitlab_expand("" if value is None else to_text(value), {**known, **result})
        return result

    def resolve(self, name, trail):
        if name in trail:
            raise PipelineError(f"{self.file}: extends: forms a cycle: {' -> '.join(trail + [name])}")
        if name not in self.document:
            raise PipelineError(f"{self.file}: {trail[-1]} extends {name}, which does not exist")
        job = copy.deepcopy(self.document[name])
        merged = {}
        for parent in as_list(job.pop("extends", None)):
            merged = deep_merge(merged, self.resolve(parent, trail + [name]))
        merged = deep_merge(merged, job)
        if not trail:
            for key, value in (self.document.get("default") or {}).items():
                merged.setdefault(key, copy.deepcopy(value))
        return merged

    def rules_say(self, rules, variables, default_when="on_success"):
        """The first matching rule's `when` (else the job's, else on_success), or None when none matches."""
        for rule in rules:
            if "if" in rule and not GitLabCondition(str(rule["if"]), variables).value():
                continue
            if "exists" in rule:
                paths = as_list(rule["exists"].get("paths") if isinstance(rule["exists"], dict) else rule["exists"])
                if not any(glob.glob(os.path.join(self.source, p), recursive=True) for p in paths):
                    continue
            return rule.get("when", default_when), rule
        return None, None

    def needs_of(self, name):
        job = self.jobs[name]
        if "needs" in job:
            return [(n["job"] if isinstance(n, dict) else str(n)) for n in as_list(job["needs"])]
        stage = self.stage_index(name)
        return [n for n in self.jobs if self.stage_index(n) < stage]

    def stage_index(self, name):
        stage = self.jobs[name].get("stage", "test")
        if stage not in self.stages:
            raise PipelineError(f"{self.file}: job {name} is in stage {stage}, which stages: does not list")
        return self.stages.index(stage)

    def script_text(self, job):
        return "\n".join(str(x) for x in flatten(job.get("before_script")) + flatten(job.get("script")))

    def build_job(self):
        found = [n for n, j in self.jobs.items() if "swift build" in self.script_text(j)]
        if len(found) != 1:
            raise PipelineError(f"{self.file}: expected one job that runs `swift build`, found {found}")
        return found[0]

    def runtime_jobs(self, build):
        return [(n, apt_install_packages(self.script_text(j))) for n, j in self.jobs.items()
                if n != build and build in self.needs_of(n)]

    def run(self):
        variables = {**self.predefined, **self.global_variables, **self.project_variables}
        say(f"== {self.file}: GitLab CI pipeline, source {self.predefined['CI_PIPELINE_SOURCE']} "
            f"({self.predefined['CI_COMMIT_REF_NAME']})")
        workflow_rules = (self.document.get("workflow") or {}).get("rules")
        if workflow_rules is not None:
            when, _ = self.rules_say(workflow_rules, variables)
            if when in (None, "never"):
                say("   workflow:rules: no pipeline for this event")
                return self.finish()
        included = {}
        for name, job in self.jobs.items():
            job_vars = {**self.predefined, **self.global_variables,
                        **self.yaml_variables(job.get("variables"), variables), **self.project_variables}
            if "rules" in job:
                when, rule = self.rules_say(as_list(job["rules"]), job_vars, job.get("when", "on_success"))
                if when is None or when == "never":
                    continue
                included[name] = (when, (rule or {}).get("variables") or {})
            else:
                included[name] = (job.get("when", "on_success"), {})
        for name in list(self.jobs):
            if name not in included:
                say(f"   job {name}: not in this pipeline (rules)")
                self.report["jobs"].append({"job": name, "status": "not created", "steps": []})
                del self.jobs[name]
        build = self.build_job()
        build_text = self.script_text(self.jobs[build])
        by_stage = sorted(self.jobs, key=self.stage_index)
        order = self.order(by_stage, lambda n: [d for d in self.needs_of(n) if d in self.jobs])
        for name in order:
            when, rule_vars = included[name]
            if name == build and self.binary:
                self.provide_build(name, build_text)
            else:
                self.run_job(name, when, rule_vars)
            if name == build and self.results[name]["result"] == "success":
                self.check_runtime(self.binary or self.built_binary(name), self.runtime_jobs(name), build_text)
        return self.finish()

    def artifact_paths(self, name):
        return [str(p) for p in as_list((self.jobs[name].get("artifacts") or {}).get("paths"))]

    def provide_build(self, name, build_text):
        say(f"\n== job {name}: not run (--binary {self.binary} stands for its artifact)")
        self.check_build_line(name, build_text)
        paths = self.artifact_paths(name)
        if len(paths) != 1 or any(ch in paths[0] for ch in "*?["):
            raise PipelineError(f"{self.file}: {name} keeps {paths} as artifacts: --binary can stand only for one file")
        target = os.path.join(self.artifacts, name, paths[0])
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy2(self.binary, target)
        say(f"   artifact {paths[0]} <- {self.binary}")
        self.results[name] = {"result": "success", "dotenv": {}}
        self.report["jobs"].append({"job": name, "status": "success", "provided": True, "steps": [], "outputs": {}})

    def built_binary(self, build):
        for root, _, files in os.walk(os.path.join(self.artifacts, build)):
            if "setpoint" in files:
                return os.path.join(root, "setpoint")
        raise PipelineError(f"{self.file}: the build job kept no file named setpoint")

    def run_job(self, name, when, rule_vars):
        job = self.jobs[name]
        deps = [d for d in self.needs_of(name) if d in self.results]
        entry = {"job": name, "status": "skipped", "steps": [], "outputs": {}}
        self.report["jobs"].append(entry)
        upstream_ok = all(self.results[d]["result"] in ("success", "allowed failure") for d in deps)
        upstream_failed = any(self.results[d]["result"] == "failed" for d in deps)
        runs = {"on_success": upstream_ok, "always": True, "on_failure": upstream_failed,
                "manual": upstream_ok, "delayed": upstream_ok}.get(when)
        if runs is None:
            raise PipelineError(f"{self.file}: job {name}: when: {when} is not supported")
        if not runs:
            say(f"\n== job {name}: skipped (when: {when}; needs {deps})")
            self.results[name] = {"result": "skipped", "dotenv": {}}
            return
        self.job_counter += 1
        workspace = fresh_folder(os.path.join(self.work, "jobs", name))
        runner_files = fresh_folder(os.path.join(self.work, "jobs", name + ".runner"))
        say(f"\n== job {name} (stage {job.get('stage', 'test')})" + (" — manual: played, as a person pressing Play"
                                                                     if when == "manual" else ""))
        image = job.get("image", self.document.get("image"))
        if isinstance(image, dict):
            image = image.get("name")
        if image:
            say(f"   image {image}: not started; the script runs on this machine")
        if job.get("environment"):
            env_name = job["environment"].get("name") if isinstance(job["environment"], dict) else job["environment"]
            say(f"   environment {env_name}: its protection rules are taken as passed")
        strategy = str((job.get("variables") or {}).get("GIT_STRATEGY") or self.global_variables.get("GIT_STRATEGY")
                       or "fetch")
        if strategy != "none":
            copy_tree(self.source, workspace)
        dotenv = {}
        explicit = "needs" in job
        for dep in deps:
            need = next((n for n in as_list(job.get("needs")) if isinstance(n, dict) and n.get("job") == dep), {})
            if explicit and need.get("artifacts") is False:
                continue
            if not explicit and "dependencies" in job and dep not in as_list(job["dependencies"]):
                continue
            folder = os.path.join(self.artifacts, dep)
            if os.path.isdir(folder):
                for root, _, files in os.walk(folder):
                    for f in files:
                        src = os.path.join(root, f)
                        place_file(src, os.path.join(workspace, os.path.relpath(src, folder)))
                say(f"   artifacts of {dep} restored")
            dotenv.update(self.results[dep]["dotenv"])
        environment = self.base_environment()
        environment.update(self.predefined)
        environment.update(CI_JOB_NAME=name, CI_JOB_STAGE=str(job.get("stage", "test")), CI_PROJECT_DIR=workspace,
                           CI_BUILDS_DIR=os.path.dirname(workspace), CI_JOB_ID=str(self.job_counter),
                           CI_JOB_URL=f"{self.predefined['CI_SERVER_URL']}/{self.predefined['CI_PROJECT_PATH']}"
                                      f"/-/jobs/{self.job_counter}")
        environment.update(self.global_variables)
        environment.update(self.yaml_variables(job.get("variables"), environment))
        environment.update(self.yaml_variables(rule_vars, environment))
        environment.update(dotenv)
        environment.update(self.project_variables)
        env_name = job.get("environment")
        if env_name:
            environment["CI_ENVIRONMENT_NAME"] = env_name.get("name") if isinstance(env_name, dict) else str(env_name)
        text = self.script_text(job)
        if re.search(r"\bcurl\b", text) and "/merge_requests/" in text and "/notes" in text:
            stubs = fresh_folder(os.path.join(runner_files, "stub-bin"))
            with open(os.path.join(stubs, "curl"), "w") as f:
                f.write(CURL_STUB)
            os.chmod(os.path.join(stubs, "curl"), 0o755)
            environment["PATH"] = stubs + ":" + environment["PATH"]
            environment["CI_EXAMPLE_RUN_RECORD"] = runner_files
            say("   comment API: this job calls the merge request notes API; a recording curl is first on PATH")
        items = flatten(job.get("before_script")) + flatten(job.get("script"))
        for item in items:
            if not isinstance(item, str):
                raise PipelineError(
                    f"{self.file}: job {name}: the script item {item!r} is not a string (a ': ' in a plain YAML "
                    "scalar makes it a mapping: quote the line or use a | block); GitLab refuses it too"
                )
        if not items:
            raise PipelineError(f"{self.file}: job {name} has no script")
        marker = os.path.join(runner_files, "item")
        script = ["set -eo pipefail"]
        for i, item in enumerate(items):
            lines = item.strip().splitlines() or [""]
            echo = "$ " + lines[0] + (" …" if len(lines) > 1 else "")
            script.append(f"printf '%s\\n' {i} > {shlex.quote(marker)}")
            script.append(f"printf '%s\\n' {shlex.quote(echo)}")
            script.append(item)
        code = run_process(["bash", "--noprofile", "--norc", "-c", "\n".join(script)], environment, workspace)
        reached = int(open(marker).read().strip()) if os.path.exists(marker) else -1
        before = len(flatten(job.get("before_script")))
        labels = [(f"before_script[{i}]" if i < before else f"script[{i - before}]") + ": "
                  + (item.strip().splitlines() or [""])[0] for i, item in enumerate(items)]
        for i, label in enumerate(labels):
            if i < reached or (i == reached and code == 0):
                entry["steps"].append({"step": label, "exitCode": 0, "status": "success"})
            elif i == reached:
                entry["steps"].append({"step": label, "exitCode": code, "status": "failure"})
            else:
                entry["steps"].append({"step": label, "status": "not run" if code != 0 else "not reached (exit)"})
        for step in entry["steps"]:
            say(f"   {step['step']}: " + (f"exit {step['exitCode']}" if "exitCode" in step else step["status"]))
        for item in flatten(job.get("after_script")):
            say(f"   after_script: {str(item).splitlines()[0]}")
        if job.get("after_script"):
            after = run_process(["bash", "--noprofile", "--norc", "-c", "\n".join(str(x) for x in
                                 flatten(job["after_script"]))], {**environment, "CI_JOB_STATUS":
                                 "success" if code == 0 else "failed"}, workspace)
            say(f"   after_script exit {after} (GitLab does not fail the job for it)")
        result = "success" if code == 0 else ("allowed failure" if job.get("allow_failure") else "failed")
        if code != 0 and result == "failed":
            self.fail(name, labels[reached] if 0 <= reached < len(labels) else "script", code)
        artifacts = job.get("artifacts") or {}
        keep = artifacts.get("when", "on_success")
        dotenv_out = {}
        if keep == "always" or (keep == "on_success") == (code == 0):
            folder = os.path.join(self.artifacts, name)
            kept = []
            for pattern in [str(p) for p in as_list(artifacts.get("paths"))]:
                for hit in sorted(glob.glob(os.path.join(workspace, pattern), recursive=True)):
                    sources = ([os.path.join(r, f) for r, _, fs in os.walk(hit) for f in fs] if os.path.isdir(hit)
                               else [hit])
                    for src in sources:
                        place_file(src, os.path.join(folder, os.path.relpath(src, workspace)))
                        kept.append(os.path.relpath(src, workspace))
            for report in as_list((artifacts.get("reports") or {}).get("dotenv")):
                path = os.path.join(workspace, str(report))
                if os.path.exists(path):
                    dotenv_out.update(read_key_values(path))
                else:
                    say(f"   dotenv report {report}: not found")
            if kept:
                say(f"   artifacts kept: {', '.join(kept)}")
        requests = os.path.join(runner_files, "requests.jsonl")
        if os.path.exists(requests):
            with open(requests) as f:
                for line in f:
                    request = json.loads(line)
                    if "/notes" in (request.get("url") or "") and request.get("method") in ("POST", "PUT"):
                        self.record_comment({"job": name, **request})
        entry.update(status=result, outputs=dotenv_out)
        self.results[name] = {"result": result, "dotenv": dotenv_out}
        say(f"   job {name}: {result}" + (f", dotenv {dotenv_out}" if dotenv_out else ""))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pipeline", help="the workflow or .gitlab-ci.yml file")
    parser.add_argument("--source", required=True, help="the repository the pipeline runs on (a folder)")
    parser.add_argument("--context", required=True, help="JSON: the event, secrets and variables")
    parser.add_argument("--work", required=True, help="folder for the jobs' workspaces, artifacts and report.json")
    parser.add_argument("--binary", help="an already-built setpoint, standing for the build job's artifact")
    parser.add_argument("--setpoint-source", default=os.path.dirname(HERE),
                        help="the Setpoint source tree (Package.swift; another repository's checkout)")
    parser.add_argument("--kind", choices=["github", "gitlab"], help="default: from the file's content")
    args = parser.parse_args(argv)
    run = None
    try:
        with open(args.pipeline) as f:
            document = yaml.safe_load(f)
        if not isinstance(document, dict):
            raise PipelineError(f"{args.pipeline} is not a YAML mapping")
        kind = args.kind or ("github" if "jobs" in document and ("on" in document or True in document) else "gitlab")
        os.makedirs(args.work, exist_ok=True)
        run = GitHubRun(args, document) if kind == "github" else GitLabRun(args, document)
        return run.run()
    except PipelineError as error:
        say(f"\nERROR {error}")
        report = dict(run.report) if run else {"file": args.pipeline}
        report.update(ok=False, error=str(error))
        if os.path.isdir(args.work):
            with open(os.path.join(args.work, "report.json"), "w") as f:
                json.dump(report, f, indent=2)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
