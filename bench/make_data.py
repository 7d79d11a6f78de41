"""Build benchmark inputs: a realistic export CSV and a large RSS feed (deterministic).

Most posts are benign; about one in twenty carries a risk word, as in a council's real mentions.
"""

from __future__ import annotations

import argparse
import csv
import random
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

BENIGN = (
    "Lovely walk by the river this morning, the new benches are great",
    "Does anyone know what time the library opens on Sunday?",
    "The Christmas market looks brilliant this year, well done everyone",
    "Bus diversion on Mill Road again today, allow extra time",
    "Thanks to the team who cleared the leaves on our street",
    "Is the recycling centre open on bank holidays? Can't find it on the website",
    "Great turnout at the park run, well organised as always",
    "Kids loved the reading challenge at the central library",
    "Roadworks finished early on the high street, nice one",
    "Where can I get a new garden waste sticker?",
)
RISKY = (
    "Bins not collected again, absolutely disgraceful service",
    "Reporter here: can the council give a statement for comment by 5pm?",
    "Pothole on Station Road has burst my tyre, sort it out",
    "Flooding on the underpass again, someone will get hurt",
    "That councillor is corrupt and everyone knows it",
)
AUTHORS = [f"resident_{i}" for i in range(5000)]


def posts(count: int, seed: int = 7):
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(count):
        base = rng.choice(RISKY) if rng.random() < 0.05 else rng.choice(BENIGN)
        text = f"{base} #{rng.randrange(10_000)} via @CastlemereBC"
        yield {
            "id": f"p{i}",
            "url": f"https://social.example/status/{1_000_000 + i}",
            "author": rng.choice(AUTHORS),
            "published": start + timedelta(seconds=i * 37),
            "text": text,
        }


def write_csv(path: Path, count: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "date", "author", "url", "text"])
        for p in posts(count):
            writer.writerow([p["id"], p["published"].isoformat(), p["author"], p["url"], p["text"]])


def write_rss(path: Path, count: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>\n')
        handle.write("<title>Benchmark feed</title><link>https://social.example/</link>\n")
        for p in posts(count, seed=11):
            handle.write(
                "<item>"
                f"<guid>{p['url']}</guid><link>{p['url']}</link>"
                f"<title>{escape(p['text'][:60])}</title>"
                f"<description>&lt;p&gt;{escape(p['text'])}&lt;/p&gt;</description>"
                f"<author>{p['author']}@social.example ({p['author']})</author>"
                f"<pubDate>{format_datetime(p['published'])}</pubDate>"
                "</item>\n"
            )
        handle.write("</channel></rss>\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--entries", type=int, default=10_000)
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    write_csv(args.folder / "export-200k.csv", args.rows)
    write_rss(args.folder / "feed-10k.rss", args.entries)


if __name__ == "__main__":
    main()
