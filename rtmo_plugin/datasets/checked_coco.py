"""COCO and CrowdPose datasets that validate their data instead of silently producing wrong targets.

MMPose's ``CocoDataset``/``CrowdPoseDataset`` trust the annotation file: a NaN keypoint becomes a NaN target, a
17-keypoint annotation in a 14-keypoint dataset is reshaped into the wrong joints, an inverted box silently turns
a person into background, a missing image fails deep inside a dataloader worker. The checked variants take the
same arguments plus ``on_bad_data`` and check everything while loading (see
:mod:`rtmo_plugin.datasets.data_validation` for the list of checks):

* ``on_bad_data='raise'`` (default): one :class:`BadDataError` listing every problem with file, image id,
  annotation id and what is wrong;
* ``on_bad_data='skip'``: drop what is affected, log a warning per problem (the first 20) and a summary with
  counts at the end of loading. An image is dropped when its file or entry is bad; an annotation is dropped in
  top-down mode, but in bottom-up mode the whole image is dropped, since keeping the image without that person
  would teach the model that the person is background.

An image that passes the load-time checks but fails to decode in the pipeline (e.g. truncated JPEG body; the
default load-time check reads the file signature only) raises a :class:`BadDataError` naming the file and image
id, or with ``'skip'`` is counted, warned about and replaced by another sample (training only).
"""
import os.path as osp
from collections import Counter
from typing import Any, Dict, List, Set, Tuple

from mmengine.fileio import get_local_path
from mmengine.logging import print_log
from mmpose.datasets.datasets.body import CocoDataset, CrowdPoseDataset
from mmpose.registry import DATASETS
from xtcocotools.coco import COCO

from .data_validation import (
    IMAGE_CHECKS,
    BadDataError,
    DataProblem,
    check_annotation,
    check_image_entry,
    check_image_file,
    load_annotation_json,
)

ON_BAD_DATA = ("raise", "skip")
#: How many individual problems a 'skip' run logs before only counting.
MAX_WARNINGS = 20


class CheckedCocoStyleMixin:
    """Validation for :class:`~mmpose.datasets.datasets.base.BaseCocoStyleDataset` subclasses.

    Args:
        on_bad_data: ``'raise'`` or ``'skip'`` (see the module docstring). Defaults to ``'raise'``.
        image_check: load-time image check, one of ``'none'``, ``'exists'``, ``'header'`` (file signature, cheap)
            or ``'decode'`` (full decode + size check, slow on big datasets). Defaults to ``'header'``.
        **kwargs: the arguments of the MMPose dataset class.

    Attributes:
        bad_data_counts (Counter): problem kind -> count, filled while loading and (for 'skip') while reading.
        skipped (dict): ``{'images': n, 'annotations': m}`` dropped while loading.
    """

    def __init__(self, *args: Any, on_bad_data: str = "raise", image_check: str = "header", **kwargs: Any) -> None:
        if on_bad_data not in ON_BAD_DATA:
            raise ValueError(f"on_bad_data must be one of {ON_BAD_DATA}, got {on_bad_data!r}")
        if image_check not in IMAGE_CHECKS:
            raise ValueError(f"image_check must be one of {IMAGE_CHECKS}, got {image_check!r}")
        self.on_bad_data = on_bad_data
        self.image_check = image_check
        self.bad_data_counts: Counter = Counter()
        self.skipped: Dict[str, int] = {"images": 0, "annotations": 0}
        self._warned = 0
        super().__init__(*args, **kwargs)

    # ------------------------------------------------------------------ loading
    def load_data_list(self) -> List[dict]:
        """Check the detection-result file's JSON first (when used), then load as MMPose does."""
        if self.bbox_file:
            with get_local_path(self.ann_file) as local:
                load_annotation_json(local, display_name=self.ann_file)
        return super().load_data_list()

    def _load_annotations(self) -> Tuple[List[dict], List[dict]]:
        """Load and validate the annotation file; return ``(instance_list, image_list)`` like MMPose."""
        with get_local_path(self.ann_file) as local:
            data = load_annotation_json(local, display_name=self.ann_file)
            data = self._validated(data)
            self.coco = COCO(local, ann_data=data)
        if "categories" in self.coco.dataset:
            self._metainfo["CLASSES"] = self.coco.loadCats(self.coco.getCatIds())
        instance_list, image_list = [], []
        for img_id in self.coco.getImgIds():
            if img_id % self.sample_interval != 0:
                continue
            img = dict(self.coco.loadImgs(img_id)[0])
            img.update(img_id=img_id, img_path=osp.join(self.data_prefix["img"], img["file_name"]))
            image_list.append(img)
            for ann in self.coco.loadAnns(self.coco.getAnnIds(imgIds=img_id)):
                info = self.parse_data_info(dict(raw_ann_info=ann, raw_img_info=img))
                if info:
                    instance_list.append(info)
        return instance_list, image_list

    def _validated(self, data: Dict[str, Any]) -> Dict[str, Any]:
        """Run every check; raise, or return ``data`` without the bad images/annotations."""
        source = str(self.ann_file)
        num_kpts = int(self.metainfo["num_keypoints"])
        names = self.metainfo.get("keypoint_id2name", {})
        dataset_name = self.metainfo.get("dataset_name", type(self).__name__)
        problems: List[DataProblem] = []
        images: Dict[Any, dict] = {}
        bad_imgs: Set[Any] = set()
        for img in data["images"]:
            found = check_image_entry(img, source)
            img_id = img.get("id")
            if img_id in images:
                found.append(DataProblem(source, "duplicate_id", "image id used by more than one image entry",
                                         img_id=img_id, file_name=img.get("file_name")))
            if not found and not self._is_remote():
                issue = check_image_file(osp.join(self.data_prefix["img"], img["file_name"]), self.image_check,
                                         (img["width"], img["height"]))
                if issue:
                    found.append(DataProblem(source, *issue, img_id=img_id, file_name=img["file_name"]))
            problems += found
            if found:
                bad_imgs.add(img_id)
            if img_id is not None:
                images.setdefault(img_id, img)

        ann_ids: Set[Any] = set()
        bad_anns: Set[int] = set()  # positions in data['annotations']
        for pos, ann in enumerate(data["annotations"]):
            img_id, ann_id = ann.get("image_id"), ann.get("id")
            img = images.get(img_id)
            found = [] if img is not None else [("unknown_image", "refers to an image id not in 'images'")]
            if ann_id is None:
                found.append(("bad_annotation_entry", "annotation has no 'id'"))
            elif ann_id in ann_ids:
                found.append(("duplicate_id", "annotation id used by more than one annotation"))
            ann_ids.add(ann_id)
            wh = (img["width"], img["height"]) if img is not None and img_id not in bad_imgs else None
            found += check_annotation(ann, num_kpts, names, dataset_name, wh)
            if found:
                bad_anns.add(pos)
                file_name = img.get("file_name") if img is not None else None
                problems += [DataProblem(source, k, m, img_id=img_id, ann_id=ann_id, file_name=file_name)
                             for k, m in found]
        if not problems:
            return data
        if self.on_bad_data == "raise":
            raise BadDataError(problems)
        return self._drop(data, problems, bad_imgs, bad_anns)

    def _drop(self, data: Dict[str, Any], problems: List[DataProblem], bad_imgs: Set[Any],
              bad_anns: Set[int]) -> Dict[str, Any]:
        """'skip' mode: warn, count and remove the affected entries (see the module docstring)."""
        for p in problems:
            self._warn(str(p))
            self.bad_data_counts[p.kind] += 1
        if self.data_mode == "bottomup":
            bad_imgs = bad_imgs | {data["annotations"][i].get("image_id") for i in bad_anns}
        kept_imgs = [img for img in data["images"] if img.get("id") not in bad_imgs]
        kept_anns = [ann for i, ann in enumerate(data["annotations"])
                     if i not in bad_anns and ann.get("image_id") not in bad_imgs]
        self.skipped = {"images": len(data["images"]) - len(kept_imgs),
                        "annotations": len(data["annotations"]) - len(kept_anns)}
        counts = ", ".join(f"{n} x {k}" for k, n in sorted(self.bad_data_counts.items()))
        print_log(f"{type(self).__name__}: skipped {self.skipped['images']} image(s) and "
                  f"{self.skipped['annotations']} annotation(s) of {self.ann_file} because of bad data "
                  f"({len(problems)} problem(s): {counts}); kept {len(kept_imgs)} image(s), {len(kept_anns)} "
                  "annotation(s)", logger="current", level=30)
        return dict(data, images=kept_imgs, annotations=kept_anns)

    def _warn(self, message: str) -> None:
        """Log one bad-data warning, at most :data:`MAX_WARNINGS` per dataset."""
        self._warned += 1
        if self._warned <= MAX_WARNINGS:
            print_log(f"{type(self).__name__}: skipping bad data: {message}", logger="current", level=30)
        elif self._warned == MAX_WARNINGS + 1:
            print_log(f"{type(self).__name__}: more bad data; further problems are only counted",
                      logger="current", level=30)

    def _is_remote(self) -> bool:
        """Images behind a URL-like prefix (s3://, http://) are not checked at load time."""
        return "://" in str(self.data_prefix.get("img", ""))

    # ------------------------------------------------------------------ reading
    def prepare_data(self, idx: int) -> Any:
        """Run the pipeline; turn an undecodable image into a clear error (or a skip in training)."""
        try:
            return super().prepare_data(idx)
        except Exception as err:
            info = self.get_data_info(idx)
            path = info.get("img_path")
            issue = check_image_file(path, "decode") if isinstance(path, str) and not self._is_remote() else None
            if issue is None:
                raise  # not a data problem of this sample's image: keep the original error
            problem = DataProblem(str(self.ann_file), issue[0], issue[1], img_id=info.get("img_id"),
                                  file_name=osp.basename(path))
            if self.on_bad_data == "raise" or self.test_mode:
                raise BadDataError([problem]) from err
            self.bad_data_counts[problem.kind] += 1
            self._warn(f"{problem} (while reading; another sample is used instead; "
                       f"{sum(self.bad_data_counts.values())} bad-data problem(s) so far)")
            return None


@DATASETS.register_module()
class CheckedCocoDataset(CheckedCocoStyleMixin, CocoDataset):
    """MMPose ``CocoDataset`` (COCO-17 metainfo) with data validation; see :class:`CheckedCocoStyleMixin`."""


@DATASETS.register_module()
class CheckedCrowdPoseDataset(CheckedCocoStyleMixin, CrowdPoseDataset):
    """MMPose ``CrowdPoseDataset`` (CrowdPose-14 metainfo) with data validation; see :class:`CheckedCocoStyleMixin`."""

