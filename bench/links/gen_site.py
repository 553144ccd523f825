"""Writes the benchmark site: PAGES pages of LINKS links each, plus an index.

Every page is reachable from /index.html (each page links to the next), the rest of its
links go to pseudo-random pages (a fixed seed, so every run checks the same site), and a
known share is broken so verdicts can be compared: 1 link in 200 points at a missing page,
1 in 100 at a section the target does not have. The rest point at pages, or at sections
they do have.

usage: gen_site.py OUT_DIR PAGES LINKS
"""

import os
import random
import sys


def main() -> None:
    out, pages, links = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    rnd = random.Random(4)
    os.makedirs(os.path.join(out, "p"), exist_ok=True)
    broken = set()
    dead = missing_section = 0
    total = 0
    for n in range(pages):
        hrefs = [(f"/p/{(n + 1) % pages}.html", "Next")]
        while len(hrefs) < links:
            target = rnd.randrange(pages)
            roll = rnd.randrange(200)
            if roll == 0:
                hrefs.append((f"/missing/{n}-{len(hrefs)}.html", "Old article"))
                broken.add(hrefs[-1][0])
                dead += 1
            elif roll < 3:
                hrefs.append((f"/p/{target}.html#gone", "Gone section"))
                broken.add(hrefs[-1][0])
                missing_section += 1
            elif roll < 40:
                hrefs.append((f"/p/{target}.html#s{rnd.randrange(3)}", f"Section of {target}"))
            else:
                hrefs.append((f"/p/{target}.html", f"Article {target}"))
        total += len(hrefs)
        items = "\n".join(f'    <li><a href="{h}">{t}</a></li>' for h, t in hrefs)
        body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Article {n}</title></head>
<body>
  <main>
  <h1>Article {n}</h1>
  <h2 id="s0">Summary</h2><p>Some words a reader skims before following a link.</p>
  <h2 id="s1">Details</h2><p>More words, so the page has the weight of a real one.</p>
  <h2 id="s2">See also</h2>
  <ul>
{items}
  </ul>
  </main>
</body></html>
"""
        with open(os.path.join(out, "p", f"{n}.html"), "w") as f:
            f.write(body)
    with open(os.path.join(out, "index.html"), "w") as f:
        f.write('<!doctype html><title>Index</title><a href="/p/0.html">Start</a>\n')
    print(f"generated {pages} pages, {total} links ({dead} to missing pages, "
          f"{missing_section} to missing sections; {len(broken)} distinct broken targets)",
          file=sys.stderr)


if __name__ == "__main__":
    main()
