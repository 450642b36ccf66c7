#!/usr/bin/env python3
"""Regenerates the README's example outputs of the shipped model from the current binary.

Usage: python3 scripts/readme_outputs.py [BINARY]   (default target/release/stancekit)

Each replaced block is a fenced block whose first line is `$ COMMAND` (the command is rerun and its
output put under it; `eval` keeps the first head, `predict --explain` sentences 8 and 9), plus the
two JSON examples of the predict section (the record of sentence 8, and the summary abridged to
two speakers and one example per stance). Prose that describes the outputs is not touched: read
the diff afterwards. Standard library only.
"""
import json
import re
import subprocess
import sys

ARTICLE = "examples/articles/arctic-fisheries.txt"
BINARY = sys.argv[1] if len(sys.argv) > 1 else "target/release/stancekit"


def run(*args):
    return subprocess.run([BINARY, *args], check=True, capture_output=True, text=True).stdout


def command_output(command):
    args = command.split()[1:]
    if args[0] == "predict" and "--format" not in args:
        args = args[:1] + ["--format", "table"] + args[1:]
    out = run(*args)
    if args[0] == "eval":
        out = out.split("\n== ", 1)[0].rstrip("\n") + "\n"
    if "--explain" in args:
        lines = out.splitlines()
        keep, current = [lines[0]], None
        for line in lines[1:]:
            if not line.startswith(" "):
                current = line.split()[0]
            if current in (f"{ARTICLE}:8", f"{ARTICLE}:9"):
                keep.append(line)
        out = "\n".join(keep) + "\n...\n"
    return out


def replace_dollar_blocks(readme):
    def fill(match):
        command = match.group(1)
        if command.endswith("\\"):
            return match.group(0)  # multi-line commands (cross-validation) are not rerun here
        return f"```text\n$ {command}\n{command_output(command)}```"

    return re.sub(r"```text\n\$ ([^\n]*)\n.*?```", fill, readme, flags=re.S)


def replace_json_blocks(readme):
    records = [json.loads(line) for line in run("predict", "--format", "jsonl", ARTICLE).splitlines()]
    record = next(r for r in records if r["id"] == f"{ARTICLE}:8")
    summary = json.loads(run("predict", "--summary", "--format", "jsonl", ARTICLE))
    summary["speakers"] = summary["speakers"][:2]
    summary["examples"] = {k: v[:1] for k, v in summary["examples"].items()}
    blocks = [json.dumps(record, indent=2, ensure_ascii=False), json.dumps(summary, indent=2, ensure_ascii=False)]
    starts = ['{\n  "id": "' + ARTICLE + ':8"', '{\n  "article": "' + ARTICLE + '"']
    for start, block in zip(starts, blocks):
        pattern = re.compile(r"```json\n" + re.escape(start) + r".*?```", re.S)
        if not pattern.search(readme):
            sys.exit(f"README.md: no JSON block starting {start!r}")
        readme = pattern.sub(lambda _: f"```json\n{block}\n```", readme, count=1)
    return readme


def main():
    readme = open("README.md", encoding="utf-8").read()
    updated = replace_json_blocks(replace_dollar_blocks(readme))
    open("README.md", "w", encoding="utf-8").write(updated)
    print("README.md updated" if updated != readme else "README.md unchanged")


if __name__ == "__main__":
    main()
