#!/usr/bin/env python3
"""Validates JSON plans (`setpoint plan --output json`) against schemas/plan.schema.json.

Usage: scripts/plan-schema-check.py FILE...
Prints one JSON object per file: {"file": …, "valid": true|false, "errors": [...]}. Exits 1 when one is invalid.
"""
import json
import os
import sys

import jsonschema


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", "schemas", "plan.schema.json")) as f:
        schema = json.load(f)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    bad = 0
    for path in argv:
        with open(path) as f:
            document = json.load(f)
        errors = [
            "/".join(str(p) for p in e.absolute_path) + ": " + e.message
            for e in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
        ]
        bad += bool(errors)
        print(json.dumps({"file": path, "valid": not errors, "errors": errors}))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
