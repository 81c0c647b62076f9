"""The analysis stages applied to each record on its way into the store.

record -> extract -> (image hashing) -> score. Each stage is a plain function over a
ProcessedAd, with no database or web imports, so it runs in worker processes as well as in the
CLI, the web app or a distributed engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tracelight.errors import RecordError
from tracelight.records import AdRecord, ImageInfo, ProcessedAd

Stage = Callable[[ProcessedAd, Path], None]


@dataclass(frozen=True)
class PipelineOptions:
    region: str = "US"
    extract: bool = True
    images: bool = True
    score: bool = True
    ocr: bool = False  # reading text inside images costs ~0.3 CPU-s per picture: opt-in
    image_dir: str | None = None  # where ad image bytes are kept; None: leave them in place
    # images a crawler already downloaded into the image store, by URL: ("sha256:HEX") or why
    # not ("error:REASON"). Set only by tracelight crawl, never read from a record.
    remote_images: tuple[tuple[str, str], ...] = ()
    # what the crawler already computed for those it fetched this time (hashed once, not twice)
    remote_infos: tuple[ImageInfo, ...] = ()


def build_stages(opts: PipelineOptions) -> list[Stage]:
    """The stages to run, in order. Each import stays inside so a worker loads only these."""
    stages: list[Stage] = []
    if opts.extract:
        from tracelight.extract import extract_record

        region = opts.region

        def extract_stage(item: ProcessedAd, _base: Path) -> None:
            item.mentions.extend(extract_record(item.record, region).mentions)

        stages.append(extract_stage)
    if opts.images:
        from tracelight.images.stage import ImageStage

        stages.append(ImageStage(opts.image_dir, remote=dict(opts.remote_images) or None,
                                 known=opts.remote_infos))
        if opts.ocr:
            from tracelight.images.ocr import OcrStage

            stages.append(OcrStage(opts.region, image_dir=opts.image_dir))
    if opts.score:
        from tracelight.score.stage import score_stage

        stages.append(score_stage)
    return stages


class Processor:
    """Picklable callable that turns a record into a ProcessedAd (runs in worker processes)."""

    def __init__(self, opts: PipelineOptions) -> None:
        self.opts = opts
        self._stages: list[Stage] | None = None

    def __getstate__(self) -> dict[str, object]:
        return {"opts": self.opts}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.opts = state["opts"]  # type: ignore[assignment]
        self._stages = None

    def __call__(self, record: AdRecord, base_dir: Path) -> ProcessedAd:
        if self._stages is None:
            self._stages = build_stages(self.opts)
        item = ProcessedAd(record=record)
        for stage in self._stages:
            stage(item, base_dir)
        return item

    def warm(self) -> None:
        """Build the stages and load their tables (gazetteer, lexicons, numbering plans) by
        running one made-up record through them: worker processes forked afterwards share
        all of it instead of each paying ~0.6 CPU-s to build its own."""
        self(AdRecord(id="warm-up", source="warm-up", title="warm up",
                      body="call 312 555 0101, Chicago IL, age 25, $100 hh, a@b.example"),
             Path("."))

    def many(self, batch: list[tuple[AdRecord, Path]]) -> list[ProcessedAd]:
        return [self(record, base) for record, base in batch]

    def each(self, batch: list[tuple[AdRecord, Path]]) -> list[ProcessedAd | RecordError]:
        """Like `many`, but a record that makes a stage fail becomes a RecordError saying why,
        and the others go on: one hostile ad never costs the batch."""
        out: list[ProcessedAd | RecordError] = []
        for record, base in batch:
            try:
                out.append(self(record, base))
            except Exception as exc:  # any failure of one record is a reject
                text = " ".join(str(exc).split())[:200]
                out.append(RecordError(f"analysis failed: {type(exc).__name__}"
                                       + (f": {text}" if text else "")))
        return out
