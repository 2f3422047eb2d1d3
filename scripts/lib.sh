# shellcheck shell=bash disable=SC2034  # (variables here are used by the scripts that source this file)
# Helpers shared by scripts/quickstart and scripts/test. Source it; do not run it.
#
# Environment:
#   SETPOINT_BUILD_PATH  optional SwiftPM scratch path (default: .build in the repository root), e.g.
#                        SETPOINT_BUILD_PATH=.build-scripts scripts/test
#   NO_COLOR             set to anything to turn off bold headings (as does TERM=dumb or a pipe)

# The repository root, whatever the caller's working directory.
SETPOINT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export SETPOINT_ROOT

# Arguments every `swift build` / `swift test` call gets: the scratch path, when one is set.
SWIFT_PATH_ARGS=()
if [[ -n "${SETPOINT_BUILD_PATH:-}" ]]; then
    SWIFT_PATH_ARGS=(--scratch-path "$SETPOINT_BUILD_PATH")
fi

if [[ -t 1 && -z "${NO_COLOR+x}" && "${TERM:-}" != "dumb" ]]; then
    _sp_bold=$'\033[1m' _sp_red=$'\033[1;31m' _sp_reset=$'\033[0m'
else
    _sp_bold="" _sp_red="" _sp_reset=""
fi

# heading TEXT: a step heading.
heading() {
    printf '\n%s==> %s%s\n' "$_sp_bold" "$*" "$_sp_reset"
}

# say TEXT: an indented line under a heading.
say() {
    printf '    %s\n' "$*"
}

# die TEXT: print an error and exit 1.
die() {
    printf '%serror:%s %s\n' "$_sp_red" "$_sp_reset" "$*" >&2
    exit 1
}

# as_root CMD...: run a command as root (directly, or through sudo when not root).
as_root() {
    if [[ "$EUID" -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "'$*' needs root; run this script as root"
    fi
}

# package_installed NAME: true when the Debian package is installed.
package_installed() {
    local info
    info="$(dpkg -s "$1" 2>/dev/null)" || return 1
    [[ "$info" == *"Status: install ok installed"* ]]
}

# ensure_packages NAME...: install the Debian packages that are missing (apt-get update only when one is).
ensure_packages() {
    local missing=() name
    for name in "$@"; do
        package_installed "$name" || missing+=("$name")
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        say "Debian packages: all $# needed are installed ($*)"
        return 0
    fi
    say "installing: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
}

# ensure_python_modules: python3 with the jsonschema and yaml (PyYAML) modules, used by a schema test.
ensure_python_modules() {
    if command -v python3 >/dev/null 2>&1 && python3 -c 'import jsonschema, yaml' >/dev/null 2>&1; then
        say "python3 with jsonschema and yaml present"
        return 0
    fi
    ensure_packages python3 python3-jsonschema python3-yaml
    if python3 -c 'import jsonschema, yaml' >/dev/null 2>&1; then
        return 0
    fi
    say "the Debian packages did not provide them; trying pip"
    ensure_packages python3-pip
    # Debian 12's pip refuses to touch the system Python without --break-system-packages (PEP 668).
    as_root python3 -m pip install -q --break-system-packages jsonschema pyyaml </dev/null \
        || as_root python3 -m pip install -q jsonschema pyyaml </dev/null
    python3 -c 'import jsonschema, yaml' || die "python3 cannot import jsonschema and yaml"
}

# ensure_swift: `swift` on PATH (Swift 6.3 lives in /opt/swift on these machines).
ensure_swift() {
    if ! command -v swift >/dev/null 2>&1 && [[ -x /opt/swift/usr/bin/swift ]]; then
        PATH="/opt/swift/usr/bin:$PATH"
        export PATH
    fi
    command -v swift >/dev/null 2>&1 || die "swift not found: install Swift 6.3 (e.g. in /opt/swift) and put it on PATH"
}

# Debian packages needed to build Setpoint: libyaml (the CYAML system-library target, found by pkg-config), and
# git with the CA certificates SwiftPM needs to fetch dependencies over https.
# The last ones are what the Swift toolchain itself needs to compile and link on Debian 12 (present wherever Swift
# was installed by its instructions; checked so that a bare machine with /opt/swift unpacked works too).
BUILD_PACKAGES=(libyaml-dev libcurl4-openssl-dev libpq-dev libsqlite3-dev openssl pkg-config git ca-certificates binutils gcc libc6-dev libstdc++-12-dev zlib1g-dev tzdata)
