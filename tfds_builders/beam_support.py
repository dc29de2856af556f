"""Example generation shared by the real-data builders, in-process or on Apache Beam.

``ms_celeb_au`` and ``disfa`` turn label-CSV rows into examples the same way:
read the row's image from the manual dir, crop its face box
(:func:`crop_example`, the one place that does it) and add the row's labels.
The builders mix in :class:`RowExamplesMixin`, which runs that per-row function

* in-process, as a plain Python generator, by default (``apache_beam`` is not
  imported, nor needed);
* on Apache Beam when the download config asks for it (``beam_runner`` or
  ``beam_options`` set, e.g. ``tfds build … --beam_pipeline_options=…``):
  ``_generate_examples`` then returns a ``beam.PTransform`` and TFDS runs the
  pipeline and writes the shards.

Under Beam the launcher writes each split's rows (labels, box, file and line,
as JSON lines) into the dataset's temporary directory, so the pipeline graph
only names that file however many rows there are; the workers read it
(``ReadFromText``, then a ``Reshuffle`` to spread the cropping) and need the
manual dir and the data dir readable, the latter writable too.

Rows that cannot be used are recorded, not lost: in-process they go straight
to ``info.metadata["skipped"]``; under Beam they leave the workers on a side
output, gathered into one JSON file per split next to the rows file, which the
launcher reads back once the pipeline has finished (both files are then
deleted). Either way the list is sorted by :func:`skip_order` before
``metadata.json`` is written, so both paths store the same list.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

from etils import epath

from keras_au import faces

log = logging.getLogger(__name__)

#: A skipped row, as stored in ``metadata["skipped"]``.
SkipRecord = dict[str, Any]
#: ``(key, features)`` as ``_generate_examples`` yields it.
KeyExample = tuple[str, dict[str, Any]]
#: Name of the Beam side output that carries skip records.
SKIPPED_TAG = "skipped"


class Row(NamedTuple):
    """One label-CSV row to turn into an example: everything but the face pixels.

    Attributes:
        key: the example key (the image file name).
        image: the image file name, relative to the manual dir.
        box: ``(left, top, right, bottom)`` face box in the image, pixels.
        features: every feature of the example except ``image``, JSON types
            only (lists, ints, strings): rows travel to Beam workers as JSON.
        split: the split the example belongs to.
        file: the label CSV the row comes from.
        line: the row's 1-based line number in ``file``.
    """

    key: str
    image: str
    box: tuple[int, int, int, int]
    features: dict[str, Any]
    split: str
    file: str
    line: int


def skip_record(split: str, file: str, line: int, image: str, reason: str) -> SkipRecord:
    """A ``metadata["skipped"]`` entry, with JSON-friendly plain types."""
    return {"split": str(split), "file": str(file), "line": int(line),
            "image": str(image), "reason": str(reason)}  # fmt: skip


def skip_order(record: SkipRecord) -> tuple[str, str, int, str, str]:
    """Sort key of skip records: split, file, line, image, reason."""
    return (record["split"], record["file"], record["line"], record["image"], record["reason"])


def table_rows(table: Any, split: str, features: Callable[[Any], dict[str, Any]]) -> Iterator[Row]:
    """Yield a :class:`Row` per row of a ``keras_au.label_csv`` table.

    Args:
        table: DataFrame with ``image, left, top, right, bottom, source, line``.
        split: the split of every row.
        features: maps a row (a pandas named tuple) to its non-image features.
    """
    for row in table.itertuples():
        yield Row(
            key=str(row.image), image=str(row.image),
            box=(int(row.left), int(row.top), int(row.right), int(row.bottom)),
            features=features(row), split=split, file=str(row.source), line=int(row.line),
        )  # fmt: skip


def crop_example(row: Row, manual: str, size: int) -> KeyExample | SkipRecord:
    """Read, decode and crop one row's face; the per-row work of both paths.

    Args:
        row: the row.
        manual: the manual dir (a path or URL the process can read).
        size: side of the stored square face.

    Returns:
        ``(key, features)`` with the ``[size, size, 1]`` uint8 ``image`` added,
        or a skip record when the image cannot be decoded or the box misses it.
    """
    try:
        image = faces.decode_image((epath.Path(manual) / row.image).read_bytes(), row.image)
        face = faces.crop_square(image, row.box, size)
    except ValueError as err:
        return skip_record(row.split, row.file, row.line, row.image, str(err))
    return row.key, {**row.features, "image": face[:, :, None]}


def beam_requested(download_config: Any) -> bool:
    """Whether a ``tfds.download.DownloadConfig`` asks for Apache Beam generation."""
    return download_config.beam_runner is not None or download_config.beam_options is not None


def write_rows(rows: Iterable[Row], path: epath.Path) -> int:
    """Write rows as JSON lines (what :func:`beam_examples` reads); returns their number."""
    count = 0
    with path.open("w") as stream:
        for row in rows:
            stream.write(json.dumps(row._asdict()) + "\n")
            count += 1
    return count


def row_from_json(line: str) -> Row:
    """The :class:`Row` of a line written by :func:`write_rows`."""
    fields = json.loads(line)
    fields["box"] = tuple(fields["box"])
    return Row(**fields)


def _route(line: str, manual: str, size: int) -> Iterator[Any]:
    """Beam ``FlatMap`` body: the example, or the skip record on the side output."""
    import apache_beam as beam  # only Beam workers get here

    result = crop_example(row_from_json(line), manual, size)
    if isinstance(result, tuple):
        yield result
    else:
        beam.metrics.Metrics.counter("keras_au", "skipped_rows").inc()
        yield beam.pvalue.TaggedOutput(SKIPPED_TAG, result)


def _write_records(records: list[SkipRecord], path: str) -> None:
    """Write a split's skip records as one JSON list (runs once, on a worker)."""
    epath.Path(path).write_text(json.dumps(sorted(records, key=skip_order)))


def beam_examples(rows_file: str, manual: str, size: int, report: str) -> Any:
    """A ``beam.PTransform`` (pipeline start → ``(key, example)``) over a rows file.

    Args:
        rows_file: JSON lines written by :func:`write_rows`.
        manual: the manual dir.
        size: side of the stored square face.
        report: where the split's skip records are written, as one JSON list.
    """
    import apache_beam as beam  # Beam is optional: imported only when asked for

    @beam.ptransform_fn
    def generate(pbegin: Any) -> Any:
        lines = (pbegin
                 | "ReadRows" >> beam.io.ReadFromText(rows_file)
                 | "Spread" >> beam.Reshuffle())  # fmt: skip
        out = lines | "Crop" >> beam.FlatMap(_route, manual=manual, size=size).with_outputs(
            SKIPPED_TAG, main="examples"
        )
        _ = (out[SKIPPED_TAG]
             | "CollectSkipped" >> beam.combiners.ToList()
             | "WriteSkipped" >> beam.Map(_write_records, path=report))  # fmt: skip
        return out.examples

    return generate()


class RowExamplesMixin:
    """Mix into a ``GeneratorBasedBuilder`` whose examples are cropped CSV rows.

    The builder's ``_split_generators`` returns, per split,
    ``self._generate_examples(manual, rows, split)`` with ``rows`` an iterable
    of :class:`Row`; rows known to be unusable beforehand are reported with
    :meth:`_skip`. ``info.metadata`` must hold ``skipped`` and ``skipped_count``.
    """

    _use_beam: bool = False
    _beam_files: list[tuple[epath.Path, epath.Path]]

    def _download_and_prepare(self, dl_manager: Any, download_config: Any) -> None:
        """Generate all splits, then complete and sort the skip report."""
        self._use_beam = beam_requested(download_config)
        self._beam_files = []
        meta = self.info.metadata
        meta["skipped"] = []
        super()._download_and_prepare(dl_manager, download_config)
        for rows_file, report in self._beam_files:  # the Beam pipeline has finished here
            meta["skipped"].extend(json.loads(report.read_text()))
            report.unlink()
            rows_file.unlink()
        meta["skipped"].sort(key=skip_order)
        meta["skipped_count"] = len(meta["skipped"])
        if meta["skipped_count"]:
            log.warning("%s: %d rows skipped, listed in metadata.json 'skipped'",
                        self.name, meta["skipped_count"])  # fmt: skip

    def _skip(self, split: str, row: Any, reason: str) -> None:
        """Record a table row (with ``source, line, image``) as skipped."""
        self.info.metadata["skipped"].append(
            skip_record(split, row.source, row.line, row.image, reason))  # counted at the end

    def _drop_missing_images(self, table: Any, available: set[str],
                             split: str | Callable[[Any], str]) -> Any:  # fmt: skip
        """``table`` without the rows whose image is not in ``available``; those are skipped.

        Args:
            table: a ``keras_au.label_csv`` table.
            available: the file names in the manual dir.
            split: the split of every row, or a function of the row (a pandas named tuple).
        """
        found = table["image"].isin(available).to_numpy(dtype=bool)
        for row in table[~found].itertuples():
            self._skip(split(row) if callable(split) else split, row, "image file not found")
        if (~found).sum():
            where = "" if callable(split) else f" ({split})"
            log.warning("%s%s: %d rows name missing images (skipped, listed in metadata.json "
                        "'skipped')", self.name, where, int((~found).sum()))  # fmt: skip
        return table[found]

    def _generate_examples(self, manual: epath.Path, rows: Iterable[Row], split: str) -> Any:
        """The split's examples: a generator in-process, a ``beam.PTransform`` under Beam."""
        size = self.builder_config.image_size
        if not self._use_beam:
            return self._local_examples(os.fspath(manual), rows, size)
        rows_file = self.data_path / f"{self.name}-{split}.rows.jsonl"
        report = self.data_path / f"{self.name}-{split}.skipped.json"
        write_rows(rows, rows_file)
        self._beam_files.append((rows_file, report))
        return beam_examples(os.fspath(rows_file), os.fspath(manual), size, os.fspath(report))

    def _local_examples(self, manual: str, rows: Iterable[Row], size: int) -> Iterator[KeyExample]:
        """In-process generation: yield examples, record skips directly."""
        skipped = self.info.metadata["skipped"]
        for row in rows:
            result = crop_example(row, manual, size)
            if isinstance(result, tuple):
                yield result
            else:
                skipped.append(result)
