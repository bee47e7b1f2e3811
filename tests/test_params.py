"""designer/params.py: the runtime parameter table, its C mirror and the unit conversions."""

from __future__ import annotations

import math

import pytest
from conftest import require_tool
from dsp_examples import classic

from designer import params
from designer.errors import DesignerError


class TestTable:
    def test_ids_are_dense_and_unique(self):
        assert [p.id for p in params.PARAMS] == list(range(len(params.PARAMS)))
        assert len({p.name for p in params.PARAMS}) == len(params.PARAMS)

    def test_defaults_inside_bounds(self):
        for p in params.PARAMS:
            assert p.min <= p.default <= p.max, p.name
            assert -(2**31) <= p.min and p.max < 2**31

    def test_required_parameters_present(self):
        names = {p.name for p in params.PARAMS}
        for need in ("gain", "squelch", "on_threshold", "off_threshold", "attack_ms",
                     "release_ms", "hold_ms", "agc"):
            assert need in names
        assert params.by_name("hold_ms").default == 0  # hold time off by default

    def test_hysteresis_default_brackets_minus_3db(self):
        on = params.from_wire("on_threshold", params.by_name("on_threshold").default)
        off = params.from_wire("off_threshold", params.by_name("off_threshold").default)
        assert off < -3.0103 < on
        assert on - off < 0.4  # narrower than the 5 % frequency margin at a first-order edge

    def test_matches_the_c_table(self):
        require_tool("gcc")
        from designer.native import NativeCore
        from designer.quantize import quantize

        fs, bands, ar = classic()
        core = NativeCore(quantize(bands, fs, ar))
        for p in params.PARAMS:
            assert core.param_info(p.id) == (p.min, p.max, p.default), p.name
        assert core.param_info(len(params.PARAMS)) is None


class TestConversions:
    @pytest.mark.parametrize("name", [p.name for p in params.PARAMS if p.encoding != "bool"])
    def test_round_trip_of_every_wire_value_near_default(self, name):
        p = params.by_name(name)
        for wire in {p.min, p.default, p.max}:
            assert params.to_wire(name, params.from_wire(name, wire)) == wire

    def test_db_and_ms(self):
        assert params.to_wire("gain", 0.0) == 256
        assert params.to_wire("squelch", -45.0) == 184
        assert params.to_wire("on_threshold", -2.9) == 23467
        assert params.to_wire("release_ms", 60.4) == 60
        assert params.to_wire("agc", False) == 0
        assert math.isclose(params.from_wire("gain", 512), 20 * math.log10(2))

    def test_out_of_range_names_the_bounds(self):
        with pytest.raises(DesignerError, match=r"release_ms must be 1 <= v <= 5000.*got 9000"):
            params.validate("release_ms", 9000)
        with pytest.raises(DesignerError, match="gain"):
            params.to_wire("gain", 60.0)

    def test_non_integer_and_unknown(self):
        with pytest.raises(DesignerError, match="integer"):
            params.validate("hold_ms", 1.5)
        with pytest.raises(DesignerError, match="unknown parameter 'nope'.*known: gain"):
            params.by_name("nope")
        with pytest.raises(DesignerError, match="unknown parameter id 99"):
            params.by_id(99)
        with pytest.raises(DesignerError, match="finite"):
            params.to_wire("gain", float("nan"))

    def test_defaults_with_overrides(self):
        d = params.defaults({"hold_ms": 334})
        assert d["hold_ms"] == 334 and d["gain"] == 256
        assert list(d) == [p.name for p in params.PARAMS]
        assert params.defaults_list({"agc": 0})[params.by_name("agc").id] == 0
        with pytest.raises(DesignerError):
            params.defaults({"hold_ms": -1})
