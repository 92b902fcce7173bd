"""Fact sheets in content/factsheets: present, well formed, on topic and in our own words.

The sheets are paraphrased from the public seed documents in ../shared/seeds. The copy check
fails when any run of COPY_RUN consecutive words (case, whitespace, punctuation, ligatures and
hyphenation normalised) also appears in a seed, so a copied sentence cannot slip through.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FACTSHEETS = ROOT / "content" / "factsheets"
SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"

MIN_WORDS, MAX_WORDS = 150, 900
COPY_RUN = 12

# A phrase naming each seed document, exactly as it appears in that seed's text.
SEED_TITLES = {
    "blog": "How co-production underpins the Gloucestershire Arts on Prescription consortia",
    "article": "ArtsProfessional feature in partnership with the Cultural Commissioning Programme",
    "brief": "Arts on Prescription Sector Support Programme",
    "evaluation": "co-produced cultural commissioning grant scheme",
    "huddles": "Co-Production in Creative Health",
}

# name -> (seed documents its Sources must name, topics it must cover). A topic is a phrase or a
# tuple of alternative phrases, matched case-insensitively.
SHEETS: dict[str, tuple[tuple[str, ...], tuple[str | tuple[str, ...], ...]]] = {
    "01-arts-on-prescription.md": (
        ("blog", "article", "brief"),
        (
            "Art Shape",
            "Mindsong",
            "The Music Works",
            "Artspace",
            "Artlift",
            "GP",
            "health professional",
            "care agenc",
            ("self-referral", "referring themselves"),
            "10 to 12",
            ("weekly", "a week"),
            "progression",
            "public health",
            "clinical commissioning group",
            "Create Gloucestershire",
            "chronic pain",
            "Singing for Breathing",
            "paediatric epilepsy",
            "type 1 diabetes",
            "mental health",
        ),
    ),
    "02-commissioning-models.md": (
        ("article",),
        (
            ("consortium", "consortia"),
            "managing provider",
            "hub and spoke",
            "sub-contracting",
            "single provider",
            "personal budget",
            "micro-commissioning",
            "on prescription",
            "recovery college",
            "national framework",
            "Liverpool Arts Regeneration Consortium",
            "Without Walls",
            "C3 Consortium",
            "Kent County Council",
            "Royal Liverpool Philharmonic",
            "Mersey Care",
            "Core Arts",
            "Trestle Theatre",
            "South London and Maudsley",
            "Reading Well",
        ),
    ),
    "03-co-production.md": (
        ("blog", "evaluation", "huddles"),
        (
            "principles",
            "challenges",
            "power",
            "trust",
            "coordination",
            "capacity",
            "Health Coaching",
            "Huddles",
            "evaluation",
            "freelance",
        ),
    ),
    "04-getting-listed.md": (
        ("blog",),
        (
            "Register",
            "organisation",
            "freelance artist",
            "programme",
            "venue",
            "art forms",
            "conditions",
            "areas served",
            "referral routes",
            "safeguarding",
            "DBS",
            "insurance",
            "evaluation framework",
            "consent",
            "home address",
            "moderator",
            "reference number",
            "edit code",
            "withdraw",
            "consortium",
        ),
    ),
    "05-evidence-and-evaluation.md": (
        ("brief", "evaluation", "huddles"),
        (
            "Public Health England Arts and Health Evaluation Framework",
            "Data Maturity Framework",
            "process evaluation",
            "36",
            "co-produc",
        ),
    ),
}

# The seven models of the Cultural Commissioning Programme article, each with its own section.
MODELS = (
    "consortium",
    "sub-contracting",
    "single provider",
    "personal budgets",
    "on prescription",
    "recovery colleges",
    "national frameworks",
)

WORD = re.compile(r"[A-Za-z0-9]+(?:['’-][A-Za-z0-9]+)*")
HTML_TAG = re.compile(r"<\s*/?\s*[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?\s*>|<!--|&[a-z]+;|&#\d+;")
SOURCES_HEADING = re.compile(r"^#{2,3}\s+Sources\s*$", re.MULTILINE)


def all_sheets() -> list[Path]:
    return sorted(p for p in FACTSHEETS.glob("*.md") if p.name.lower() != "readme.md")


def sheet_ids() -> list[str]:
    return sorted(set(SHEETS) | {p.name for p in all_sheets()})


def read(name: str) -> str:
    return (FACTSHEETS / name).read_text(encoding="utf-8")


def sources_section(text: str) -> str:
    match = SOURCES_HEADING.search(text)
    return text[match.end() :] if match else ""


def norm(text: str) -> str:
    """Lower case, ASCII quotes, ligatures undone, single spaces."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return " ".join(text.split())


def tokens(text: str) -> list[str]:
    """Words for the copy check: hyphenated and line-broken words are joined (co-production,
    co-\\nproduction and coproduction are one word), and punctuation is ignored."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("’", "'")
    text = re.sub(r"(?<=[a-z0-9])-\s*(?=[a-z0-9])", "", text)
    return re.findall(r"[a-z0-9]+(?:'[a-z0-9]+)*", text)


def runs(words: list[str], n: int = COPY_RUN) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def seed_files() -> list[Path]:
    return sorted(p for p in SEEDS.glob("*") if p.is_file()) if SEEDS.is_dir() else []


@lru_cache(maxsize=1)
def seed_runs() -> frozenset[tuple[str, ...]]:
    found: set[tuple[str, ...]] = set()
    for path in seed_files():
        found |= runs(tokens(path.read_text(encoding="utf-8", errors="replace")))
    return frozenset(found)


def copied_passages(text: str) -> list[str]:
    """Every maximal passage of COPY_RUN or more words that also appears in a seed."""
    words = tokens(text)
    known = seed_runs()
    hits = [i for i in range(len(words) - COPY_RUN + 1) if tuple(words[i : i + COPY_RUN]) in known]
    passages: list[str] = []
    start = end = None
    for i in hits:
        if start is not None and end is not None and i <= end:
            end = i + COPY_RUN
            continue
        if start is not None:
            passages.append(" ".join(words[start:end]))
        start, end = i, i + COPY_RUN
    if start is not None:
        passages.append(" ".join(words[start:end]))
    return passages


needs_seeds = pytest.mark.skipif(
    not seed_files(), reason=f"seed documents not found in {SEEDS}; copy check not possible"
)


@pytest.mark.parametrize("name", sorted(SHEETS))
def test_required_sheet_exists(name: str) -> None:
    assert (FACTSHEETS / name).is_file(), f"missing fact sheet {FACTSHEETS / name}"


def test_readme_says_what_they_are() -> None:
    lines = [
        ln
        for ln in (FACTSHEETS / "README.md").read_text(encoding="utf-8").splitlines()
        if ln.strip()
    ]
    assert len(lines) == 2, lines
    assert "paraphrased" in lines[1].lower() and "sources" in lines[1].lower()


@pytest.mark.parametrize("name", sheet_ids())
def test_starts_with_title_and_one_sentence_summary(name: str) -> None:
    text = read(name)
    assert text.startswith("# ") and not text.startswith("# #"), "must start with '# Title'"
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    assert len(paragraphs[0].splitlines()) == 1, "the title is one line"
    summary = paragraphs[1]
    assert not summary.startswith(("#", "-", "*", "1.")), "a summary paragraph follows the title"
    assert "\n" not in summary, "the summary is a single line"
    assert len(re.findall(r"[.!?](?:\s|$)", summary)) == 1, f"one sentence: {summary!r}"


@pytest.mark.parametrize("name", sheet_ids())
def test_length(name: str) -> None:
    count = len(WORD.findall(read(name)))
    assert MIN_WORDS <= count <= MAX_WORDS, f"{name} has {count} words"


@pytest.mark.parametrize("name", sheet_ids())
def test_no_raw_html(name: str) -> None:
    found = HTML_TAG.findall(read(name))
    assert not found, f"raw HTML in {name} (Streamlit renders Markdown): {found}"


@pytest.mark.parametrize("name", sheet_ids())
def test_sources_section_names_seed_documents(name: str) -> None:
    text = read(name)
    headings = re.findall(r"^#{1,6}\s+.*$", text, re.MULTILINE)
    assert headings and SOURCES_HEADING.match(headings[-1]), "ends with a Sources section"
    sources = norm(sources_section(text))
    named = {key for key, title in SEED_TITLES.items() if norm(title) in sources}
    assert named, f"{name}: Sources names none of the seed titles"
    required = set(SHEETS.get(name, ((), ()))[0])
    assert required <= named, f"{name}: Sources should also name {sorted(required - named)}"


@pytest.mark.parametrize("name", sorted(SHEETS))
def test_covers_required_topics(name: str) -> None:
    body = norm(read(name).split("## Sources")[0])
    missing = []
    for topic in SHEETS[name][1]:
        options = (topic,) if isinstance(topic, str) else topic
        if not any(norm(option) in body for option in options):
            missing.append(topic)
    assert not missing, f"{name} does not mention {missing}"


def test_commissioning_models_each_have_how_who_risks_example() -> None:
    text = read("02-commissioning-models.md")
    sections = re.split(r"^## ", text, flags=re.MULTILINE)
    for model in MODELS:
        matching = [s for s in sections if model in norm(s.splitlines()[0])]
        assert matching, f"no section headed with {model!r}"
        section = norm(matching[0])
        for part in ("how it works", "suits", "risks", "example"):
            assert part in section, f"{model!r} section lacks {part!r}"


@needs_seeds
def test_seed_titles_are_real() -> None:
    seeds = " ".join(norm(p.read_text(encoding="utf-8", errors="replace")) for p in seed_files())
    for key, title in SEED_TITLES.items():
        assert norm(title) in seeds, f"{key} title {title!r} is not in any seed"


@needs_seeds
def test_copy_check_catches_copying() -> None:
    text = seed_files()[0].read_text(encoding="utf-8", errors="replace")
    words = text.split()
    lifted = "   ".join(words[40 : 40 + COPY_RUN + 3]).upper()
    assert copied_passages(f"Some words of our own. {lifted} And more of our own.")
    assert not copied_passages("An entirely original sentence about arts on prescription " * 3)


@needs_seeds
@pytest.mark.parametrize("name", [*sheet_ids(), "README.md"])
def test_written_in_own_words(name: str) -> None:
    copied = copied_passages(read(name))
    assert not copied, f"{name} copies {len(copied)} passage(s) from the seeds: {copied}"
