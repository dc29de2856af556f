"""Contact sheets of synthetic faces, for eyeballing the renderer.

Usage::

    python -m keras_au.synth.preview --config pretrain -o sheet.png
    python -m keras_au.synth.preview --config disfa --count 24 -o video.png
    python -m keras_au.synth.preview --config gallery --seed 3 -o gallery.png

``pretrain``: faces 0..count-1 of the still set, captioned with their true
AUs ("1 2 5 26") and the noisy labeller's disagreements ("+7" a false
positive, "-12" a miss). ``disfa``: every ``--stride``-th frame of subject
SN001, captioned with the frame number and its positive DISFA AUs.
``gallery``: one person, one row per AU, columns intensity 0, 1, 3, 5 and
|difference| between 5 and 0 (x4), on plain imaging conditions.
"""

from __future__ import annotations

import argparse
import os
import sys

import cv2
import numpy as np

from keras_au.aus import DISFA_AUS, FACS_NAMES, OPENFACE_AUS
from keras_au.synth.face import render_face
from keras_au.synth.generate import disfa_subject_frames, pretrain_example
from keras_au.synth.identity import sample_identity
from keras_au.synth.nuisance import Nuisance

_FONT = cv2.FONT_HERSHEY_PLAIN
_FONT_SCALE = 0.8
_LINE_H = 11


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit with code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _wrap(words: list[str], width: int) -> list[str]:
    """Greedy word wrap to ``width`` pixels of the caption font."""
    lines, cur = [], ""
    for w in words:
        cand = f"{cur} {w}".strip()
        if cur and cv2.getTextSize(cand, _FONT, _FONT_SCALE, 1)[0][0] > width - 4:
            lines.append(cur)
            cur = w
        else:
            cur = cand
    return [*lines, cur] if cur else lines


def _tile(image: np.ndarray, words: list[str], scale: int, lines: int) -> np.ndarray:
    """A face scaled up with its caption underneath (white background)."""
    face = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    w = face.shape[1]
    cap = np.full((lines * _LINE_H + 4, w), 255, np.uint8)
    for k, text in enumerate(_wrap(words, w)[:lines]):
        cv2.putText(cap, text, (2, (k + 1) * _LINE_H), _FONT, _FONT_SCALE, 0, 1, cv2.LINE_AA)
    return np.concatenate([face, cap], 0)


def _grid(tiles: list[np.ndarray], cols: int) -> np.ndarray:
    """Tiles (all the same shape) in rows of ``cols`` with 2-px gaps."""
    h, w = tiles[0].shape
    rows = -(-len(tiles) // cols)
    sheet = np.full((rows * (h + 2), cols * (w + 2)), 200, np.uint8)
    for k, t in enumerate(tiles):
        r, c = divmod(k, cols)
        sheet[r * (h + 2) : r * (h + 2) + h, c * (w + 2) : c * (w + 2) + w] = t
    return sheet


def _short(au: str) -> str:
    return str(int(au[2:]))


def _pretrain(args: argparse.Namespace) -> np.ndarray:
    tiles = []
    for i in range(args.count):
        ex = pretrain_example(args.seed, i, args.size)
        words = [_short(au) for au, t in zip(OPENFACE_AUS, ex["aus_true"], strict=True) if t]
        for au, t, n in zip(OPENFACE_AUS, ex["aus_true"], ex["aus"], strict=True):
            if n != t:
                words.append(("+" if n else "-") + _short(au))
        tiles.append(_tile(ex["image"][:, :, 0], words or ["-"], args.scale, 3))
    return _grid(tiles, 8)


def _disfa(args: argparse.Namespace) -> np.ndarray:
    frames = [k * args.stride for k in range(args.count)]
    tiles = []
    for ex in disfa_subject_frames(args.seed, "SN001", frames[-1] + 1, args.size, frames=frames):
        words = [f"f{ex['frame']}:"] + [
            _short(au) for au, t in zip(DISFA_AUS, ex["aus"], strict=True) if t
        ]
        tiles.append(_tile(ex["image"][:, :, 0], words, args.scale, 2))
    return _grid(tiles, 8)


def _gallery(args: argparse.Namespace) -> np.ndarray:
    person = sample_identity(np.random.default_rng(args.seed))
    plain = Nuisance(noise=0.0, blur=0.3, light_strength=0.1)
    s = args.size * args.scale
    label_w = 150
    rows = []
    neutral = render_face(person, np.zeros(len(OPENFACE_AUS)), plain, args.size)
    for k, au in enumerate(OPENFACE_AUS):
        cells = []
        for level in (0, 1, 3, 5):
            a = np.zeros(len(OPENFACE_AUS))
            a[k] = level
            cells.append(render_face(person, a, plain, args.size))
        diff = np.abs(cells[-1].astype(np.int16) - neutral.astype(np.int16)) * 4
        cells.append(np.clip(diff, 0, 255).astype(np.uint8))
        big = [cv2.resize(c, (s, s), interpolation=cv2.INTER_NEAREST) for c in cells]
        label = np.full((s, label_w), 255, np.uint8)
        cv2.putText(label, au, (4, s // 2 - 4), _FONT, 1.2, 0, 1, cv2.LINE_AA)
        for j, text in enumerate(_wrap(FACS_NAMES[au].split(), label_w)[:2]):
            cv2.putText(label, text, (4, s // 2 + 12 + j * _LINE_H), _FONT, _FONT_SCALE, 0, 1)
        rows.append(np.concatenate([label, *big], 1))
    header = np.full((16, rows[0].shape[1]), 255, np.uint8)
    for j, text in enumerate(("intensity 0", "1", "3", "5", "|5 - 0| x4")):
        cv2.putText(header, text, (label_w + j * s + 4, 12), _FONT, _FONT_SCALE, 0, 1)
    return np.concatenate([header, *rows], 0)


def main(argv: list[str] | None = None) -> int:
    """Write a contact sheet PNG; returns the exit status (2 for bad arguments)."""
    parser = _Parser(prog="python -m keras_au.synth.preview", description=__doc__.split("\n")[0])
    parser.add_argument("--config", choices=("pretrain", "disfa", "gallery"), default="pretrain")
    parser.add_argument("--count", type=int, default=48, help="faces (pretrain, disfa)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=64, help="face side in pixels")
    parser.add_argument("--scale", type=int, default=2, help="integer zoom of each face")
    parser.add_argument("--stride", type=int, default=25, help="frames between disfa tiles")
    parser.add_argument("-o", "--output", required=True, help="PNG file to write")
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        return int(e.code) if isinstance(e.code, int) else 2
    for name, lo, hi in (("count", 1, 2000), ("size", 16, 512), ("scale", 1, 8),
                         ("stride", 1, 10000), ("seed", 0, 2**63 - 1)):  # fmt: skip
        v = getattr(args, name)
        if not lo <= v <= hi:
            print(f"{parser.prog}: error: --{name} must be in {lo}..{hi}, got {v}", file=sys.stderr)
            return 2
    if not args.output.lower().endswith(".png"):
        print(f"{parser.prog}: error: output must be a .png file: {args.output}", file=sys.stderr)
        return 2
    folder = os.path.dirname(os.path.abspath(args.output))
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        print(f"{parser.prog}: error: cannot write to folder {folder}", file=sys.stderr)
        return 2
    sheet = {"pretrain": _pretrain, "disfa": _disfa, "gallery": _gallery}[args.config](args)
    try:
        ok = cv2.imwrite(args.output, sheet)
    except cv2.error as e:
        ok = False
        print(f"{parser.prog}: error: {str(e).splitlines()[-1]}", file=sys.stderr)
    if not ok:
        print(f"{parser.prog}: error: could not write {args.output}", file=sys.stderr)
        return 2
    print(f"wrote {args.output} ({sheet.shape[1]}x{sheet.shape[0]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
