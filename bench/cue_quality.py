"""Count subtitle limit violations: the product's cue builder against a naive punctuation splitter.

Inputs are the golden cases (hand-written aligner output) plus generated word streams in English,
Chinese and Japanese-like text, with and without punctuation. Run from the repository root:

    python -m bench.cue_quality [--streams 6] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path

from asr_core.breaks import ends_sentence
from asr_core.cues import build_cues, words_on_screen
from asr_core.options import CueOptions
from asr_core.punctuate import attach_punctuation
from asr_core.quality import QualityReport, assess
from asr_core.types import AlignedUnit, Cue, Word

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "tests" / "golden"
OPTIONS = CueOptions()
COLUMNS = (
    "cue_count",
    "lines_over_width",
    "cues_over_max_lines",
    "too_short_cues",
    "too_long_cues",
    "reading_speed_violations",
    "gap_violations",
)
EN_WORDS = (
    "the", "a", "we", "they", "river", "mountain", "walked", "quickly", "because", "later", "morning", "station",
    "tired", "bright", "window", "remember", "tomorrow", "carefully", "everyone", "something", "important",
    "yesterday", "kitchen", "suddenly",
)  # fmt: skip
ZH_CHARS = "我们今天城市夜生活年轻人下班以后喜欢小酒馆咖啡店朋友聊天放松觉得早点回家休息重要"
JA_UNITS = ("今日", "は", "京都", "の", "町", "を", "紹介", "し", "ます", "駅", "から", "歩い", "て", "お寺", "が")


def naive_cues(words: Sequence[Word], duration_s: float) -> list[Cue]:
    """The baseline: one single-line cue per run of words up to a punctuation mark, shown while spoken."""
    cues: list[Cue] = []
    run: list[Word] = []
    visible = words_on_screen(words, duration_s)
    for index, word in enumerate(visible):
        run.append(word)
        stripped = word.text.strip()
        if ends_sentence(stripped) or stripped[-1:] in ",，、" or index == len(visible) - 1:
            text = "".join(w.text for w in run).strip()
            cues.append(Cue(run[0].start_s, max(w.end_s for w in run), text, tuple(run)))
            run = []
    return cues


def golden_inputs() -> list[tuple[str, str, list[Word], float]]:
    cases = []
    for folder in sorted(p for p in GOLDEN_DIR.iterdir() if (p / "input.json").is_file()):
        spec = json.loads((folder / "input.json").read_text(encoding="utf-8"))
        units = [AlignedUnit(*unit) for unit in spec["units"]]
        cases.append((folder.name, spec["language"], attach_punctuation(spec["text"], units), spec["duration_s"]))
    return cases


def _stream(
    rng: random.Random, pieces: Callable[[], list[str]], spacer: str, rate_s: float, punctuate: bool
) -> tuple[list[Word], float]:
    """Sentences of random pieces spoken at ``rate_s`` per character, with pauses between them."""
    words: list[Word] = []
    t = 1.0
    for _ in range(rng.randint(20, 40)):
        sentence = pieces()
        for i, piece in enumerate(sentence):
            last = i == len(sentence) - 1
            mark = ""
            if punctuate:
                mark = "." if last else ("," if rng.random() < 0.12 else "")
                mark = {".": "。", ",": "，"}[mark] if spacer == "" and mark else mark
            duration = rate_s * len(piece) * rng.uniform(0.7, 1.3)
            words.append(Word((spacer if words else "") + piece + mark, t, t + duration))
            t += duration + rng.choice([0.0, 0.02, 0.05, 0.1, 0.25 if mark else 0.05])
        t += rng.choice([0.1, 0.3, 0.6, 1.2, 2.5])
    return words, t + 2.0


def generated_inputs(count: int, seed: int) -> list[tuple[str, str, list[Word], float]]:
    rng = random.Random(seed)
    makers = {
        "English": (lambda: rng.choices(EN_WORDS, k=rng.randint(4, 28)), " ", 0.065),
        "Chinese": (lambda: rng.choices(ZH_CHARS, k=rng.randint(5, 30)), "", 0.2),
        "Japanese": (lambda: rng.choices(JA_UNITS, k=rng.randint(4, 16)), "", 0.13),
    }
    cases = []
    for n in range(count):
        language = list(makers)[n % len(makers)]
        pieces, spacer, rate = makers[language]
        punctuate = n % 2 == 0
        words, duration = _stream(rng, pieces, spacer, rate, punctuate)
        label = f"gen-{language.lower()}-{'punct' if punctuate else 'nopunct'}-{n}"
        cases.append((label, language, words, duration))
    return cases


def _row(label: str, builder: str, report: QualityReport) -> str:
    values = asdict(report)
    return f"{label:<34} {builder:<8}" + "".join(f"{values[c]:>10}" for c in COLUMNS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=6, help="generated word streams (default 6)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    headers = ("cues", ">width", ">lines", "short", "long", "reading", "gaps")
    print(f"{'input':<34} {'builder':<8}" + "".join(f"{h:>10}" for h in headers))
    totals = {"naive": dict.fromkeys(COLUMNS, 0), "product": dict.fromkeys(COLUMNS, 0)}
    elapsed = 0.0
    for label, language, words, duration in golden_inputs() + generated_inputs(args.streams, args.seed):
        started = time.perf_counter()
        product = build_cues(words, language=language, options=OPTIONS, duration_s=duration)
        elapsed += time.perf_counter() - started
        for builder, cues in (("naive", naive_cues(words, duration)), ("product", product)):
            report = assess(cues, words, language=language, options=OPTIONS, duration_s=duration)
            print(_row(label, builder, report))
            for column in COLUMNS:
                totals[builder][column] += getattr(report, column)
    print("-" * (44 + 10 * len(COLUMNS)))
    for builder, counts in totals.items():
        print(f"{'TOTAL':<34} {builder:<8}" + "".join(f"{counts[c]:>10}" for c in COLUMNS))
    print(f"\nproduct builder time over all inputs: {elapsed:.3f} s")


if __name__ == "__main__":
    main()
