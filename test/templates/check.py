"""Runs cfn-lint on every synthesized template and checkov on the example app's, and fails on any finding
that acknowledged.json does not list with a reason, or on an acknowledgement that matches nothing.

    python test/templates/check.py DIR    # DIR holds *.template.json; example.template.json is checkov's
"""
import json
import pathlib
import re
import subprocess
import sys

HERE = pathlib.Path(__file__).parent
BIN = pathlib.Path(sys.executable).parent


def cfn_lint(templates):
    run = subprocess.run([BIN / "cfn-lint", "--format", "json", *map(str, templates)], capture_output=True, text=True)
    # Exit codes 2, 4 and 8 flag errors, warnings and informational findings (added up); anything else failed.
    if run.returncode & 1 or run.returncode > 15:
        sys.exit(f"cfn-lint failed to run (exit {run.returncode}):\n{run.stderr}")
    if not run.stdout.strip():
        return []
    return [
        {
            "tool": "cfn-lint",
            "rule": m["Rule"]["Id"],
            "level": m["Level"],
            "resource": m["Location"]["Path"][1] if m["Location"]["Path"][:1] == ["Resources"] else "",
            "file": pathlib.Path(m["Filename"]).name,
            "message": m["Message"],
        }
        for m in json.loads(run.stdout)
    ]


def checkov(template):
    run = subprocess.run(
        [BIN / "checkov", "-f", str(template), "--framework", "cloudformation", "--quiet", "--compact", "-o", "json"],
        capture_output=True,
        text=True,
    )
    if run.returncode not in (0, 1):
        sys.exit(f"checkov failed to run (exit {run.returncode}):\n{run.stderr}")
    report = json.loads(run.stdout)
    reports = report if isinstance(report, list) else [report]
    if not any("results" in r for r in reports):
        sys.exit(f"checkov checked nothing in {template}: {run.stdout[:500]}")
    return [
        {
            "tool": "checkov",
            "rule": f["check_id"],
            "level": "Failed",
            "resource": f["resource"].split(".", 1)[1],
            "file": template.name,
            "message": f["check_name"],
        }
        for r in reports
        for f in r.get("results", {}).get("failed_checks", [])
    ]


def main(directory):
    templates = sorted(pathlib.Path(directory).glob("*.template.json"))
    example = pathlib.Path(directory) / "example.template.json"
    if len(templates) < 2 or not example.exists():
        sys.exit(f"expected the suite's templates and example.template.json in {directory}")
    acknowledged = json.loads((HERE / "acknowledged.json").read_text())
    findings = cfn_lint(templates) + checkov(example)

    used = set()
    unacknowledged = []
    for finding in findings:
        match = next(
            (
                (finding["tool"], i)
                for i, ack in enumerate(acknowledged[finding["tool"]])
                if ack["rule"] == finding["rule"] and re.search(ack["resource"], finding["resource"])
            ),
            None,
        )
        if match is None or finding["level"] == "Error":
            unacknowledged.append(finding)
        else:
            used.add(match)

    for tool in ("cfn-lint", "checkov"):
        mine = [f for f in findings if f["tool"] == tool]
        errors = sum(f["level"] == "Error" for f in mine)
        print(f"{tool}: {len(mine)} findings ({errors} errors), "
              f"{len([u for u in used if u[0] == tool])} acknowledgements used, in "
              f"{len(templates) if tool == 'cfn-lint' else 1} template(s)")
    stale = [(tool, ack) for tool in ("cfn-lint", "checkov") for i, ack in enumerate(acknowledged[tool]) if (tool, i) not in used]
    for f in unacknowledged:
        print(f"NOT ACKNOWLEDGED {f['tool']} {f['level']} {f['rule']} {f['file']} {f['resource']}: {f['message']}")
    for tool, ack in stale:
        print(f"STALE acknowledgement ({tool} {ack['rule']} on /{ack['resource']}/): it matches no finding any more; remove it")
    if unacknowledged or stale:
        sys.exit(1)
    print("templates: no unacknowledged finding")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else HERE / "out")
