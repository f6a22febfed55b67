#!/usr/bin/env python3
"""Record Jekyll's reading of post files, as an independent oracle for newsarc's parser.

Builds a throwaway Jekyll site in a temporary folder: the given post files go into ``_posts/``
(Jekyll takes only names like ``YYYY-MM-DD-slug.ext`` as posts; other files are skipped and
listed as skipped), and one page, ``oracle.json``, dumps with Liquid, for every post: its
path, title, date, categories, tags and its rendered content stripped to text. The result is
written to ``tests/data/jekyll_oracle.json`` (committed: CI does not install Jekyll), with a
header naming the Jekyll version and the command that produced it.

The site's configuration (``CONFIG`` below) makes Jekyll read posts as newsarc does by design:

- ``timezone: Asia/Shanghai``: a date without an offset is local time in China (+08:00),
  newsarc's default ``--tz``;
- kramdown with its typographic conversions off (``smart_quotes`` and ``typographic_symbols``
  give back the characters as written): newsarc keeps the text as written, not ``“”``/``–``;
- Liquid is not run in post bodies (``render_with_liquid: false``): newsarc reads files, it is
  not a template engine.

Each post also carries its rendered HTML (``post.content``), from which the test takes what
a reader sees (hidden elements, injected widgets and list marks; see the test). The dumped text is ``post.content | strip_html | normalize_whitespace``; this script then decodes
HTML entities in it (``strip_html`` keeps ``&lt;`` / ``&quot;`` as they are in the HTML), so the
text is what a reader sees.

Regenerate (needs Debian's ``jekyll``: ``apt-get install jekyll``)::

    python3 scripts/jekyll_oracle.py            # writes tests/data/jekyll_oracle.json
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: the inputs, relative to the repository: the real sample and the made posts
INPUTS = ["tests/corpus/posts", "tests/data", "tests/data/jekyll"]
OUTPUT = ROOT / "tests" / "data" / "jekyll_oracle.json"
#: Jekyll's own pattern for a post's file name (Jekyll::Document::DATE_FILENAME_MATCHER)
POST_NAME = re.compile(r"^(\d{2,4}-\d{1,2}-\d{1,2})-([^/]*)(\.[^.]+)$")

CONFIG = """\
timezone: Asia/Shanghai
markdown: kramdown
kramdown:
  input: GFM
  hard_wrap: false
  smart_quotes: ["apos", "apos", "quot", "quot"]
  typographic_symbols: {hellip: "...", mdash: "---", ndash: "--", laquo: "<<", raquo: ">>",
                        laquo_space: "<< ", raquo_space: " >>"}
defaults:
  - scope: {path: "", type: posts}
    values: {render_with_liquid: false}
"""

# one JSON object per post; the page itself is not a post, so it is rendered after them
PAGE = """\
---
layout: null
---
[{% for post in site.posts %}
{"jekyll_path": {{ post.path | jsonify }},
 "title": {{ post.title | jsonify }},
 "date": {{ post.date | date: "%Y-%m-%d %H:%M:%S %z" | jsonify }},
 "categories": {{ post.categories | jsonify }},
 "tags": {{ post.tags | jsonify }},
 "text": {{ post.content | strip_html | normalize_whitespace | jsonify }},
 "html": {{ post.content | jsonify }}
}{% unless forloop.last %},{% endunless %}{% endfor %}
]
"""


def collect(inputs: list[str]) -> list[Path]:
    files: list[Path] = []
    for name in inputs:
        folder = ROOT / name
        files.extend(
            sorted(
                p
                for p in folder.iterdir()
                if p.is_file() and p.suffix in (".md", ".markdown", ".html", ".txt")
            )
        )
    return files


def build(files: list[Path]) -> dict:
    version = subprocess.run(
        ["jekyll", "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    skipped = []
    with tempfile.TemporaryDirectory(prefix="jekyll-oracle-") as tmp:
        site = Path(tmp) / "site"
        posts = site / "_posts"
        posts.mkdir(parents=True)
        (site / "_config.yml").write_text(CONFIG, encoding="utf-8")
        (site / "oracle.json").write_text(PAGE, encoding="utf-8")
        origin: dict[str, str] = {}
        for path in files:
            rel = path.relative_to(ROOT).as_posix()
            if not POST_NAME.match(path.name):
                skipped.append({"path": rel, "reason": "Jekyll takes no post by this file name"})
                continue
            if path.name in origin:
                skipped.append({"path": rel, "reason": f"same file name as {origin[path.name]}"})
                continue
            shutil.copyfile(path, posts / path.name)  # bytes as they are
            origin[path.name] = rel
        command = ["jekyll", "build", "--quiet", "--source", str(site), "--destination"]
        done = subprocess.run([*command, str(Path(tmp) / "_site")], capture_output=True, text=True)
        if done.returncode != 0:
            sys.exit(f"jekyll build failed:\n{done.stdout}{done.stderr}")
        dumped = json.loads((Path(tmp) / "_site" / "oracle.json").read_text(encoding="utf-8"))
    records = []
    for post in dumped:
        name = post.pop("jekyll_path").rsplit("/", 1)[-1]
        post["text"] = html.unescape(post["text"])
        rel = origin.pop(name)
        digest = hashlib.sha256((ROOT / rel).read_bytes()).hexdigest()
        records.append({"path": rel, "sha256": digest, **post})
    for rel in sorted(origin.values()):  # copied, yet Jekyll made no post of it
        skipped.append({"path": rel, "reason": "Jekyll made no post of it (no front matter?)"})
    records.sort(key=lambda r: r["path"])
    return {
        "about": (
            "Jekyll's reading of these post files: the oracle newsarc's parser is compared with "
            "(tests/test_jekyll_oracle.py). Produced by scripts/jekyll_oracle.py with "
            f"{version} (Debian), command `jekyll build` on a site holding the files in "
            "_posts/ and the configuration below. Regenerate: `apt-get install jekyll && "
            "python3 scripts/jekyll_oracle.py`. Do not edit by hand."
        ),
        "jekyll": version,
        "config": CONFIG,
        "inputs": INPUTS,
        "skipped": skipped,
        "posts": records,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    result = build(collect(INPUTS))
    args.output.write_text(
        json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    print(
        f"{args.output}: {len(result['posts'])} posts, {len(result['skipped'])} skipped",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
