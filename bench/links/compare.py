"""Compares nocall's verdicts (TSV: url, verdict, detail) with lychee's JSON output: which
URLs each calls broken. lychee reports per input page; its failing URLs are collected from
`error_map` (or `fail_map` in older versions).

usage: compare.py NOCALL.tsv LYCHEE.json
"""

import json
import sys


def main() -> None:
    nocall_dead = set()
    with open(sys.argv[1]) as f:
        for line in f:
            url, verdict, _ = (line.rstrip("\n").split("\t") + ["", ""])[:3]
            if verdict == "Dead":
                nocall_dead.add(url)
    with open(sys.argv[2]) as f:
        report = json.load(f)
    failures = report.get("error_map") or report.get("fail_map") or {}
    lychee_dead = {item.get("url", "") for items in failures.values() for item in items}
    both = nocall_dead & lychee_dead
    print(f"  verdicts: nocall dead {len(nocall_dead)}, lychee dead {len(lychee_dead)}, "
          f"both {len(both)}; only nocall {sorted(nocall_dead - lychee_dead)[:5]}, "
          f"only lychee {sorted(lychee_dead - nocall_dead)[:5]}")


if __name__ == "__main__":
    main()
