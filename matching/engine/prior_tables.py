"""The evidence behind the sector priors (priors.py), and how it is counted: reading the documented
exchanges (the MAESTRI CSV) and the curated rules, the words of a description, the contexts an exchange
is counted in, and the count tables per context. Pure and deterministic.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

from .compat import format_ewc, normalise_ewc
from .types import ExchangeRecord, PriorRule

DATA_DIR = Path(__file__).resolve().parent / "data"  # the tables the engine ships (data/README.md)
MAESTRI_EXCHANGES_PATH = DATA_DIR / "maestri_is_exchanges.csv"


def _digits(code: str) -> str:
    return "".join(ch for ch in str(code) if ch.isdigit())


def split_codes(cell: str) -> tuple[str, ...]:
    """Split a ';'-separated code cell and strip the compiler's ^ * # suffix markers (MAESTRI)."""
    out = []
    for part in str(cell or "").split(";"):
        code = _digits(part)
        if code and code not in out:
            out.append(code)
    return tuple(out)


def load_maestri_exchanges(path: str | Path | None = None) -> list[ExchangeRecord]:
    """Read the MAESTRI exchanges CSV (stdlib csv; default: the copy the engine ships) into records, one per
    row with usable codes.

    Suffix markers (^, *, #) are mapping-quality notes of the compiler, not the List-of-Waste hazardous
    asterisk, and are removed; cells with several NACE or EWC codes are split on ';'.
    """
    records = []
    with open(path or MAESTRI_EXCHANGES_PATH, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            ewc = split_codes(row.get("EWC code", ""))
            prov = split_codes(row.get("NACE code - Providing industry", ""))
            recv = split_codes(row.get("NACE code - Receiving industry", ""))
            if not (ewc and prov and recv):
                continue
            records.append(
                ExchangeRecord(
                    ewc_codes=ewc,
                    provider_nace=prov,
                    receiver_nace=recv,
                    case=(row.get("Case Number") or "").strip(),
                    index=(row.get("Index") or "").strip(),
                    status=(row.get("Status of development") or "").strip(),
                    provider_name=(row.get("Company name - Providing industry") or "").strip(),
                    receiver_name=(row.get("Company name - Receiving industry") or "").strip(),
                    description=(row.get("Waste description") or "").strip(),
                    country=(row.get("Country") or "").strip(),
                )
            )
    return records


def load_prior_rules(path: str | Path | None = None) -> tuple[PriorRule, ...]:
    """Curated prior rules (columns: ewc_prefix, nace, role, weight, source, note)."""
    path = Path(path) if path else DATA_DIR / "prior_rules.csv"
    rules = []
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            prefix = normalise_ewc(row["ewc_prefix"])
            nace = _digits(row["nace"])
            if not prefix or not nace:
                continue
            rules.append(
                PriorRule(
                    ewc_prefix=prefix,
                    nace=nace,
                    role=(row.get("role") or "receiver").strip(),
                    weight=float(row.get("weight") or 1.0),
                    source=(row.get("source") or "").strip(),
                    note=(row.get("note") or "").strip(),
                )
            )
    return tuple(rules)


# Words that say nothing about who uses a stream.
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "as",
        "at",
        "by",
        "for",
        "from",
        "in",
        "into",
        "of",
        "on",
        "or",
        "the",
        "to",
        "with",
        "other",
        "others",
        "mixed",
        "general",
        "various",
        "waste",
        "wastes",
        "residue",
        "residues",
        "material",
        "materials",
        "by-product",
        "by-products",
        "product",
        "products",
    ]
)


@lru_cache(maxsize=1 << 16)  # descriptions repeat across streams and runs; the result is immutable
def text_tokens(text: str) -> tuple[str, ...]:
    """Lower-case word tokens of a stream description for the text prior ('Black furnace slag' ->
    ('black', 'furnace', 'slag')); plural 's' is dropped, stop words and 1-2 letter words too (unless
    they hold a digit, like 'co2')."""
    out = []
    word = []
    for ch in (text or "").lower() + " ":
        if ch.isalnum():
            word.append(ch)
            continue
        if word:
            w = "".join(word)
            word = []
            if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
                w = w[:-1]
            if w not in STOPWORDS and (len(w) >= 3 or any(c.isdigit() for c in w)):
                out.append(w)
    return tuple(sorted(set(out)))


def _contexts(ewc: str | None, other_div: str, lineage: tuple[str, ...], side: str) -> list[tuple]:
    """Contexts for one EWC code, most general first. ``side`` is 'p' (provider known) or 'r'."""
    ctx: list[tuple] = [("*",)]
    if other_div:
        ctx.append((side, other_div))
    for cat in reversed(lineage):
        ctx.append(("c", cat))
    if ewc:
        for n, tag in ((2, "e2"), (4, "e4"), (6, "e6")):
            if len(ewc) >= n:
                ctx.append((tag, ewc[:n]))
                if other_div:
                    ctx.append((tag + side, ewc[:n], other_div))
    return ctx


def describe_context(ctx: tuple, names: dict[str, str] | None = None) -> str:
    """Plain-language description of a context ('with EWC code 10 01 02 from NACE division 35')."""
    tag = ctx[0]
    if tag == "*":
        return "in the reference data"
    if tag in ("p", "r"):
        return f"{'from' if tag == 'p' else 'to'} {_division_label(ctx[1], names)}"
    if tag == "c":
        return f"of category {ctx[1]}"
    if tag == "w":
        return f'described as "{ctx[1]}"'
    level = {"e2": "EWC chapter", "e4": "EWC sub-chapter", "e6": "EWC code"}[tag[:2]]
    text = f"with {level} {format_ewc(ctx[1])}"
    if len(tag) == 3:
        text += f" {'from' if tag[2] == 'p' else 'to'} {_division_label(ctx[2], names)}"
    return text


def _division_label(div: str, names: dict[str, str] | None) -> str:
    name = (names or {}).get(div)
    return f"NACE division {div} ({name})" if name else f"NACE division {div}"


class _Table:
    """Counts per context: division totals, class counts within a division, curated notes."""

    def __init__(self) -> None:
        self.div: dict[tuple, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.cls: dict[tuple, dict[str, dict[str, float]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(float))
        )
        self.curated: dict[tuple, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))

    def add(self, ctx: tuple, nace: str, w: float) -> None:
        d = nace[:2]
        self.div[ctx][d] += w
        if len(nace) >= 4:
            self.cls[ctx][d][nace[:4]] += w

    def freeze(self) -> None:
        self.div = {k: dict(sorted(v.items())) for k, v in sorted(self.div.items())}
        self.cls = {
            k: {d: dict(sorted(c.items())) for d, c in sorted(v.items())} for k, v in sorted(self.cls.items())
        }
        self.curated = {k: {d: sorted(set(n)) for d, n in v.items()} for k, v in self.curated.items()}


def count_tables(exchanges, rules: tuple[PriorRule, ...], counterpart_division: bool) -> tuple[_Table, _Table]:
    """The receiver and provider count tables (frozen) of exchange records and curated rules, weighted
    as ``learn_priors`` (priors.py) describes."""
    recv, prov = _Table(), _Table()
    for rec in exchanges:
        codes = [normalise_ewc(c) for c in rec.ewc_codes if normalise_ewc(c)] or [None]
        pn = [_digits(n) for n in rec.provider_nace if len(_digits(n)) >= 2]
        rn = [_digits(n) for n in rec.receiver_nace if len(_digits(n)) >= 2]
        if not pn or not rn:
            continue
        lineage = (rec.category,) if rec.category else ()
        w = float(rec.weight) / (len(codes) * len(pn) * len(rn))
        for code in codes:
            for p in pn:
                for r in rn:
                    for ctx in _contexts(code, p[:2] if counterpart_division else "", lineage, "p"):
                        recv.add(ctx, r, w)
                    for ctx in _contexts(code, r[:2] if counterpart_division else "", lineage, "r"):
                        prov.add(ctx, p, w)
        wt = float(rec.weight) / (len(pn) * len(rn))
        for tok in text_tokens(rec.description):
            for p in pn:
                for r in rn:
                    recv.add(("w", tok), r, wt)
                    prov.add(("w", tok), p, wt)
    for rule in rules:
        table = recv if rule.role == "receiver" else prov
        prefix = normalise_ewc(rule.ewc_prefix)
        nace = _digits(rule.nace)
        if len(prefix) not in (2, 4, 6) or len(nace) < 2:
            continue
        ctx = (f"e{len(prefix)}", prefix)
        table.add(ctx, nace, float(rule.weight))
        table.curated[ctx][nace[:2]].append(rule.note or rule.source)
    recv.freeze()
    prov.freeze()
    return recv, prov
