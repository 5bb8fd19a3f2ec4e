"""The demo's validation curve gets the final evaluation as its last point."""
import pytest

from rtmo_plugin.demo.curves import with_final_evaluation


def test_a_budget_stop_between_validations_adds_the_final_evaluation():
    steps, curves = with_final_evaluation([600, 1200], {"kpt AP": [0.1, 0.2], "box AP": [0.3, 0.4]}, 1400,
                                          {"kpt AP": 0.25, "box AP": 0.45, "oracle": 0.9})
    assert steps == [600, 1200, 1400]
    assert curves == {"kpt AP": [0.1, 0.2, 0.25], "box AP": [0.3, 0.4, 0.45]}


def test_a_validation_at_the_last_iteration_is_not_repeated_and_inputs_are_untouched():
    aps = {"kpt AP": [0.1, 0.2]}
    steps, curves = with_final_evaluation([600, 1200], aps, 1200, {"kpt AP": 0.2})
    assert steps == [600, 1200] and curves == {"kpt AP": [0.1, 0.2]}
    steps.append(0)
    curves["kpt AP"].append(1.0)
    assert aps == {"kpt AP": [0.1, 0.2]}


def test_no_validation_gives_the_final_point_alone():
    steps, curves = with_final_evaluation([], {}, 300, {"kpt AP": 0.05})
    assert steps == [300] and curves == {"kpt AP": [0.05]}


def test_a_final_evaluation_missing_a_curve_is_named():
    with pytest.raises(KeyError, match="box AP"):
        with_final_evaluation([600], {"kpt AP": [0.1], "box AP": [0.2]}, 800, {"kpt AP": 0.2})
