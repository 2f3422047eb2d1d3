#!/usr/bin/env python3
"""Validate setpoint/... documents with a real JSON Schema validator (python-jsonschema, draft 2020-12).

Usage: scripts/schema-check.py [--schemas DIR] PATH...

Reads YAML files (folders recursively, *.yaml/*.yml) with PyYAML's safe loader (YAML 1.1, like Setpoint's
type rules) and validates every document whose apiVersion starts with 'setpoint/' against
schemas/setpoint.schema.json. Prints one JSON object per document:
  {"file": F, "document": N, "kind": K, "name": NAME, "valid": true|false, "errors": [...]}
and, for files PyYAML cannot read, {"file": F, "yamlError": MESSAGE}. Exits 1 when anything is invalid.
"""
import json
import os
import re
import sys

import jsonschema
import yaml


def files_of(paths):
    for path in paths:
        if os.path.isdir(path):
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(names):
                    if name.endswith((".yaml", ".yml")) and not name.startswith("."):
                        yield os.path.join(root, name)
        else:
            yield path


def ecma_pattern(validator, pattern, instance, schema):
    """`pattern` with ECMA-262 semantics, as the schemas are written: `$` matches only at the very end.

    Python's `$` also matches before a final newline, which would let "web\n" pass a name pattern.
    """
    if not validator.is_type(instance, "string"):
        return
    compiled = pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith("\\$") else pattern
    if not re.search(compiled, instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


Validator = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": ecma_pattern})


def main(argv):
    schemas = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "schemas")
    if len(argv) > 1 and argv[0] == "--schemas":
        schemas, argv = argv[1], argv[2:]
    with open(os.path.join(schemas, "setpoint.schema.json")) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = Validator(schema)
    failed = False
    for path in files_of(argv):
        try:
            with open(path) as f:
                documents = list(yaml.safe_load_all(f))
        except yaml.YAMLError as e:
            print(json.dumps({"file": path, "yamlError": str(e).splitlines()[0]}))
            failed = True
            continue
        for index, doc in enumerate(documents):
            if not isinstance(doc, dict) or not str(doc.get("apiVersion", "")).startswith("setpoint/"):
                continue
            errors = sorted(
                ("/".join(str(p) for p in e.absolute_path) + ": " + e.message)[:300]
                for e in validator.iter_errors(doc)
            )
            name = (doc.get("metadata") or {}).get("name") if isinstance(doc.get("metadata"), dict) else None
            print(json.dumps({"file": path, "document": index, "kind": doc.get("kind"), "name": name,
                              "valid": not errors, "errors": errors}, default=str))
            failed = failed or bool(errors)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
