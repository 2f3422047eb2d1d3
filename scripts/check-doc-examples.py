#!/usr/bin/env python3
"""Checks that the examples in README.md and docs/cli.md print exactly what the binary prints.

Usage: scripts/check-doc-examples.py SETPOINT_BINARY   (a test in SetpointCLITests runs it)
"""
import re, subprocess, tempfile, os, sys
BIN = os.path.abspath(sys.argv[1])
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
readme = open(os.path.join(ROOT, "README.md")).read()
blocks = re.findall(r"```(\w*)\n(.*?)```", readme, re.S)
yaml_block = [b for lang, b in blocks if lang == "yaml" and "kind: VirtualMachine" in b][0]
consoles = [b for lang, b in blocks if lang == "console"]
d = tempfile.mkdtemp()
def run(text):
    open(os.path.join(d, "api.yaml"), "w").write(text)
    p = subprocess.run([BIN, "validate", "api.yaml"], cwd=d, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    return "$ setpoint validate api.yaml\n" + p.stderr + p.stdout, p.returncode
out, rc = run(yaml_block)
assert out == consoles[0], (out, consoles[0]); assert rc == 0
broken = yaml_block.replace("memory: 4Gi", "memory: 4G").replace("  cores: 2", "  core: 2").replace("cluster: pve-main", "cluster: pve-mian")
out, rc = run(broken)
assert out == consoles[1], (out, consoles[1]); assert rc == 1
# cli.md: text and JSON examples use the README file with memory: 4G
cli = open(os.path.join(ROOT, "docs/cli.md")).read()
cblocks = re.findall(r"```(\w*)\n(.*?)```", cli, re.S)
out, rc = run(yaml_block.replace("memory: 4Gi", "memory: 4G"))
text_example = [b for lang, b in cblocks if lang == "console" and b.startswith("$ setpoint validate api.yaml")][0]
assert out == text_example, (out, text_example); assert rc == 1
p = subprocess.run([BIN, "validate", "api.yaml", "--output", "json"], cwd=d, capture_output=True, text=True)
json_example = [b for lang, b in cblocks if lang == "json"][0]
assert p.stdout == json_example and p.stderr == "" and p.returncode == 1, (p.stdout, json_example)
p2 = subprocess.run([BIN, "validate", "api.yaml", "--json"], cwd=d, capture_output=True, text=True)
assert p2.stdout == p.stdout
v = subprocess.run([BIN, "version"], capture_output=True, text=True).stdout
assert "$ setpoint version\n" + v in cli, v
print("README and cli.md examples match", BIN)
