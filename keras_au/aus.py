"""Action unit facts: the only module that spells out AU lists and names.

Every other module (model heads, dataset builders, metrics, reports, CSV
writers) takes its AU lists from here, so a change of protocol is one edit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

#: The 18 AUs that OpenFace 2.x predicts, in the column order of the paper's
#: pre-training label files (``pre_train_images/*_label.csv``).
OPENFACE_AUS: tuple[str, ...] = (
    "AU01", "AU02", "AU04", "AU05", "AU06", "AU07", "AU09", "AU10", "AU12",
    "AU14", "AU15", "AU17", "AU20", "AU23", "AU25", "AU26", "AU28", "AU45",
)  # fmt: skip

#: The 12 AUs that DISFA codes, in the column order of its fold CSVs.
DISFA_AUS: tuple[str, ...] = (
    "AU01", "AU02", "AU04", "AU05", "AU06", "AU09",
    "AU12", "AU15", "AU17", "AU20", "AU25", "AU26",
)  # fmt: skip

#: The 8-AU DISFA subset on which most papers (JAA-Net, ME-GraphAU, FMAE) report F1.
DISFA_EVAL_AUS: tuple[str, ...] = (
    "AU01", "AU02", "AU04", "AU06", "AU09", "AU12", "AU25", "AU26",
)  # fmt: skip

#: FACS names of every AU above.
FACS_NAMES: dict[str, str] = {
    "AU01": "inner brow raiser",
    "AU02": "outer brow raiser",
    "AU04": "brow lowerer",
    "AU05": "upper lid raiser",
    "AU06": "cheek raiser",
    "AU07": "lid tightener",
    "AU09": "nose wrinkler",
    "AU10": "upper lip raiser",
    "AU12": "lip corner puller",
    "AU14": "dimpler",
    "AU15": "lip corner depressor",
    "AU17": "chin raiser",
    "AU20": "lip stretcher",
    "AU23": "lip tightener",
    "AU25": "lips part",
    "AU26": "jaw drop",
    "AU28": "lip suck",
    "AU45": "blink",
}

#: AU base rates of the paper's OpenFace pre-training labels (``test_label.csv``).
OPENFACE_LABEL_RATES: dict[str, float] = {
    "AU01": 0.60, "AU02": 0.54, "AU04": 0.30, "AU05": 0.40, "AU06": 0.51,
    "AU07": 0.52, "AU09": 0.30, "AU10": 0.53, "AU12": 0.53, "AU14": 0.64,
    "AU15": 0.53, "AU17": 0.21, "AU20": 0.39, "AU23": 0.17, "AU25": 0.52,
    "AU26": 0.42, "AU28": 0.24, "AU45": 0.23,
}  # fmt: skip

#: DISFA positive rates (intensity >= 2) over the paper's right-camera test frames.
DISFA_POSITIVE_RATES: dict[str, float] = {
    "AU01": 0.0497, "AU02": 0.0431, "AU04": 0.1524, "AU05": 0.0088,
    "AU06": 0.0789, "AU09": 0.0418, "AU12": 0.1288, "AU15": 0.0205,
    "AU17": 0.0504, "AU20": 0.0225, "AU25": 0.2771, "AU26": 0.0882,
}  # fmt: skip

#: DISFA intensity at or above which an AU counts as present.
DISFA_PRESENCE_THRESHOLD: int = 2

#: Named AU sets accepted wherever a user chooses AUs (``--aus disfa8``).
AU_SETS: dict[str, tuple[str, ...]] = {
    "openface": OPENFACE_AUS,
    "disfa": DISFA_AUS,
    "disfa8": DISFA_EVAL_AUS,
}


def normalize_au(name: str) -> str:
    """Return the canonical spelling of one AU name.

    Accepts ``"AU1"``, ``"au01"``, ``"1"`` or ``"AU01_c"`` and returns ``"AU01"``.

    Raises:
        ValueError: if ``name`` is not one of the 18 known AUs.
    """
    text = name.strip().upper()
    for suffix in ("_C", "_R"):
        if text.endswith(suffix):
            text = text[: -len(suffix)]
    text = text.removeprefix("AU")
    if not text.isdigit():
        raise ValueError(f"not an AU name: {name!r}; expected e.g. 'AU01' or 'AU12'")
    canonical = f"AU{int(text):02d}"
    if canonical not in FACS_NAMES:
        raise ValueError(
            f"unknown AU {name!r}; known AUs are {', '.join(OPENFACE_AUS)}"
        )
    return canonical


def parse_au_list(spec: str | Iterable[str]) -> tuple[str, ...]:
    """Parse a user's AU selection into canonical names.

    Args:
        spec: a set name from :data:`AU_SETS` (``"disfa8"``), a comma-separated
            list (``"AU01,AU12"``) or an iterable of names.

    Returns:
        The canonical AU names, in the order given, without duplicates.

    Raises:
        ValueError: for an unknown AU or set name, or an empty selection.
    """
    if isinstance(spec, str):
        key = spec.strip().lower()
        if key in AU_SETS:
            return AU_SETS[key]
        items = [s for s in spec.split(",") if s.strip()]
    else:
        items = list(spec)
    names = tuple(dict.fromkeys(normalize_au(s) for s in items))
    if not names:
        raise ValueError(f"empty AU selection: {spec!r}")
    return names


def au_indices(selected: Sequence[str], available: Sequence[str]) -> list[int]:
    """Return the positions of ``selected`` AUs within ``available``.

    Raises:
        ValueError: naming the AUs that ``available`` lacks.
    """
    missing = [au for au in selected if au not in available]
    if missing:
        raise ValueError(
            f"AUs {', '.join(missing)} are not in this dataset; "
            f"it has {', '.join(available)}"
        )
    return [list(available).index(au) for au in selected]
