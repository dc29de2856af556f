"""DISFA subjects and subject-exclusive folds (pure Python, no heavy imports).

Two 3-fold schemes exist (see ``method.md``):

* ``"paper"`` — Fung & McDuff's folds (the seed's ``fold{1,2,3}_{train,test}.csv``);
* ``"standard"`` — the split of JAA-Net, ME-GraphAU and FMAE (``part1..3``;
  fold1 tests part3, fold2 tests part2, fold3 tests part1).

In both, a fold trains on the 18 subjects it does not test. The ``disfa`` TFDS
builder stores one split per subject, so a fold is read as
``split_spec(test_subjects)`` → ``"SN002+SN005+..."``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

#: The 27 DISFA subjects.
DISFA_SUBJECTS: tuple[str, ...] = (
    "SN001", "SN002", "SN003", "SN004", "SN005", "SN006", "SN007", "SN008",
    "SN009", "SN010", "SN011", "SN012", "SN013", "SN016", "SN017", "SN018",
    "SN021", "SN023", "SN024", "SN025", "SN026", "SN027", "SN028", "SN029",
    "SN030", "SN031", "SN032",
)  # fmt: skip

_PAPER_TEST: dict[int, tuple[str, ...]] = {
    1: ("SN002", "SN005", "SN006", "SN007", "SN012", "SN013", "SN016", "SN018", "SN026"),
    2: ("SN001", "SN003", "SN004", "SN009", "SN010", "SN011", "SN025", "SN029", "SN030"),
    3: ("SN008", "SN017", "SN021", "SN023", "SN024", "SN027", "SN028", "SN031", "SN032"),
}
_STANDARD_PARTS: dict[str, tuple[str, ...]] = {
    "part1": ("SN002", "SN010", "SN001", "SN026", "SN027", "SN032", "SN030", "SN009", "SN016"),
    "part2": ("SN013", "SN018", "SN011", "SN028", "SN012", "SN006", "SN031", "SN021", "SN024"),
    "part3": ("SN003", "SN029", "SN023", "SN025", "SN008", "SN005", "SN007", "SN017", "SN004"),
}
_STANDARD_TEST: dict[int, tuple[str, ...]] = {
    1: _STANDARD_PARTS["part3"],
    2: _STANDARD_PARTS["part2"],
    3: _STANDARD_PARTS["part1"],
}
SCHEMES: tuple[str, ...] = ("paper", "standard")


def paper_folds() -> dict[int, tuple[str, ...]]:
    """Test subjects of the paper's folds: ``{1: (...9 subjects), 2: ..., 3: ...}``."""
    return dict(_PAPER_TEST)


def standard_folds() -> dict[int, tuple[str, ...]]:
    """Test subjects of the common JAA-Net/ME-GraphAU/FMAE folds (same shape)."""
    return dict(_STANDARD_TEST)


def standard_parts() -> dict[str, tuple[str, ...]]:
    """The three 9-subject parts of the common split (``part1..3``)."""
    return dict(_STANDARD_PARTS)


def folds(scheme: str = "paper") -> dict[int, tuple[str, ...]]:
    """Test subjects per fold for ``scheme`` (``"paper"`` or ``"standard"``)."""
    if scheme == "paper":
        return paper_folds()
    if scheme == "standard":
        return standard_folds()
    raise ValueError(f"unknown fold scheme {scheme!r}; choose one of {', '.join(SCHEMES)}")


def normalize_fold(fold: int | str) -> int:
    """``1``, ``"1"``, ``"fold1"`` or ``"FOLD1"`` → ``1``."""
    text = str(fold).strip().lower().removeprefix("fold")
    if text not in ("1", "2", "3"):
        raise ValueError(f"unknown fold {fold!r}; expected 1, 2 or 3 (or 'fold1'...)")
    return int(text)


def fold_subjects(
    fold: int | str, scheme: str = "paper"
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return ``(train_subjects, test_subjects)`` of one fold, each sorted.

    Args:
        fold: 1, 2, 3 or ``"fold1"``...
        scheme: ``"paper"`` (the seed's CSVs) or ``"standard"``.
    """
    test = tuple(sorted(folds(scheme)[normalize_fold(fold)]))
    train = tuple(s for s in DISFA_SUBJECTS if s not in test)
    return train, test


def hold_out(subjects: Sequence[str], n: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Split ``n`` subjects off for validation, deterministically and evenly spaced.

    Returns:
        ``(remaining, held_out)``; e.g. 3 of 18 training subjects for model and
        threshold selection, so the test subjects are never used for choosing.
    """
    ordered = sorted(subjects)
    if not 0 <= n < len(ordered):
        raise ValueError(f"cannot hold out {n} of {len(ordered)} subjects")
    if n == 0:
        return tuple(ordered), ()
    step = len(ordered) / n
    picked = {ordered[int(step * i + step / 2)] for i in range(n)}
    return tuple(s for s in ordered if s not in picked), tuple(sorted(picked))


def split_spec(subjects: Iterable[str]) -> str:
    """TFDS split string for a subject list: ``["SN002", "SN005"]`` → ``"SN002+SN005"``."""
    names = list(subjects)
    if not names:
        raise ValueError("no subjects given")
    return "+".join(names)
