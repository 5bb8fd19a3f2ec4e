"""The overfit check's driver (``rtmo_plugin.demo_data.overfit.run_overfit``) on a 1-iteration run of each model."""
import json
from pathlib import Path

from rtmo_plugin.demo_data.overfit import run_overfit


def test_run_overfit_reports_both_models_and_our_proxy_ap(shared_data: Path, tmp_path: Path) -> None:
    results = run_overfit(tmp_path, impls=("ours", "reference"), max_iters=1)

    assert json.loads((tmp_path / "summary.json").read_text()) == json.loads(json.dumps(results))
    for impl in ("ours", "reference"):
        assert results[impl]["iterations"] == 1
        assert 0.0 <= results[impl]["kpt_AP"] <= 1.0 and 0.0 <= results[impl]["box_AP"] <= 1.0
        assert (tmp_path / f"curves_{impl}.png").is_file()
    # the proxy keypoints' AP is a diagnostic of our head only
    assert 0.0 <= results["ours"]["proxy_kpt_AP"] <= 1.0
    assert "proxy_kpt_AP" not in results["reference"]
