import json
import os

import pytest

from designer.outfiles import (
    MANIFEST,
    FilePlan,
    HandEditError,
    banner_intact,
    sha256_text,
    with_banner,
    write_plan,
)

H = "ab" * 32


def plan(**files) -> FilePlan:
    p = FilePlan()
    for rel, content in files.items():
        p.add(rel.replace("__", "/").replace("_DOT_", "."), content)
    return p


class TestBanner:
    @pytest.mark.parametrize("name,mark", [("src/main.cpp", "//"), ("platformio.ini", ";"),
                                           ("include/x.h", "//")])
    def test_banner_names_generator_config_and_hashes(self, name, mark):
        text = with_banner(name, "int x;\n", "designer 0.1.0", "classic.toml", H)
        first, second, third = text.splitlines()[:3]
        assert first.startswith(mark) and "designer 0.1.0" in first and "classic.toml" in first
        assert H in second
        assert sha256_text("int x;\n") in third
        assert banner_intact(text) is True

    def test_markdown_banner_is_a_comment(self):
        text = with_banner("README.md", "# hi\n", "designer", "o.toml", H)
        assert text.startswith("<!--") and banner_intact(text) is True

    def test_edit_detected(self):
        text = with_banner("a.h", "int x;\n", "designer", "o.toml", H)
        assert banner_intact(text.replace("int x", "int y")) is False
        assert banner_intact("no banner here\n") is None


class TestWritePlan:
    def test_writes_and_records_manifest(self, tmp_path):
        result = write_plan(plan(a_DOT_txt="A\n", src__b_DOT_c="B\n"), tmp_path)
        assert set(result.written) == {"a.txt", "src/b.c"}
        assert (tmp_path / "src" / "b.c").read_text() == "B\n"
        assert "src/b.c" in (tmp_path / MANIFEST).read_text()

    def test_unchanged_files_are_not_rewritten(self, tmp_path):
        write_plan(plan(a_DOT_txt="A\n"), tmp_path)
        os.utime(tmp_path / "a.txt", (1, 1))
        result = write_plan(plan(a_DOT_txt="A\n"), tmp_path)
        assert result.written == () and result.unchanged == ("a.txt",)
        assert (tmp_path / "a.txt").stat().st_mtime == 1

    def test_modes_as_a_plain_write_gives_and_kept_on_rewrite(self, tmp_path):
        old = os.umask(0o027)
        try:
            write_plan(plan(a_DOT_txt="A\n", src__b_DOT_c="B\n"), tmp_path)
            assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o640
            assert (tmp_path / MANIFEST).stat().st_mode & 0o777 == 0o640
            (tmp_path / "src" / "b.c").chmod(0o604)
            write_plan(plan(a_DOT_txt="A\n", src__b_DOT_c="C\n"), tmp_path, force=True)
            assert (tmp_path / "src" / "b.c").read_text() == "C\n"
            assert (tmp_path / "src" / "b.c").stat().st_mode & 0o777 == 0o604
        finally:
            os.umask(old)

    def test_files_the_new_design_no_longer_generates_are_removed(self, tmp_path):
        write_plan(plan(a_DOT_txt="A\n", report__bode_bass_DOT_png=b"\x89PNG1",
                        report__bode_mid_DOT_png=b"\x89PNG2", old__x_DOT_c="X\n"), tmp_path)
        (tmp_path / "report" / "notes.txt").write_text("mine")  # the user's, never listed
        (tmp_path / "report" / "bode_mid.png").write_bytes(b"edited")
        result = write_plan(plan(a_DOT_txt="A\n", report__bode_e2_DOT_png=b"\x89PNG3"), tmp_path)
        assert result.removed == ("old/x.c", "report/bode_bass.png")
        assert not (tmp_path / "old").exists()  # left empty: gone too
        assert (tmp_path / "report" / "notes.txt").read_text() == "mine"
        assert (tmp_path / "report" / "bode_mid.png").read_bytes() == b"edited"  # kept
        listed = (tmp_path / MANIFEST).read_text()
        assert "bode_mid" not in listed and "bode_bass" not in listed and "bode_e2" in listed
        # planned again later, the edited copy is not the designer's to overwrite
        with pytest.raises(HandEditError):
            write_plan(plan(report__bode_mid_DOT_png=b"\x89PNG2"), tmp_path)

    def test_a_manifest_never_removes_outside_the_folder(self, tmp_path):
        out = tmp_path / "fw"
        write_plan(plan(a_DOT_txt="A\n"), out)
        victim = tmp_path / "victim.txt"
        victim.write_text("V\n")
        doc = json.loads((out / MANIFEST).read_text())
        doc["files"]["../victim.txt"] = sha256_text("V\n")
        (out / MANIFEST).write_text(json.dumps(doc))
        assert write_plan(plan(a_DOT_txt="A\n"), out).removed == ()
        assert victim.read_text() == "V\n"

    def test_other_files_left_alone(self, tmp_path):
        (tmp_path / ".pio").mkdir()
        (tmp_path / ".pio" / "x").write_text("build")
        (tmp_path / "notes.txt").write_text("mine")
        write_plan(plan(a_DOT_txt="A\n"), tmp_path)
        assert (tmp_path / "notes.txt").read_text() == "mine"
        assert (tmp_path / ".pio" / "x").read_text() == "build"

    def test_hand_edit_of_bannered_file_refused_then_forced(self, tmp_path):
        v1 = with_banner("a.h", "int x;\n", "designer", "o.toml", H)
        v2 = with_banner("a.h", "int z;\n", "designer", "o.toml", H)
        write_plan(plan(a_DOT_h=v1), tmp_path)
        (tmp_path / "a.h").write_text(v1.replace("int x", "int mine"))
        with pytest.raises(HandEditError, match=r"a\.h .*--force"):
            write_plan(plan(a_DOT_h=v2), tmp_path)
        assert "int mine" in (tmp_path / "a.h").read_text()
        write_plan(plan(a_DOT_h=v2), tmp_path, force=True)
        assert (tmp_path / "a.h").read_text() == v2

    def test_hand_edit_of_verbatim_file_detected_by_manifest(self, tmp_path):
        write_plan(plan(lib__x_DOT_c="v1\n"), tmp_path)
        (tmp_path / "lib" / "x.c").write_text("v1 edited\n")
        with pytest.raises(HandEditError, match="changed since the last build"):
            write_plan(plan(lib__x_DOT_c="v2\n"), tmp_path)

    def test_refusal_writes_nothing(self, tmp_path):
        write_plan(plan(a_DOT_c="1\n", b_DOT_c="1\n"), tmp_path)
        (tmp_path / "b.c").write_text("mine\n")
        with pytest.raises(HandEditError):
            write_plan(plan(a_DOT_c="2\n", b_DOT_c="2\n"), tmp_path)
        assert (tmp_path / "a.c").read_text() == "1\n"

    def test_foreign_file_in_the_way_is_refused(self, tmp_path):
        (tmp_path / "a.c").write_text("a user's own file\n")
        with pytest.raises(HandEditError, match="not generated by the designer"):
            write_plan(plan(a_DOT_c="generated\n"), tmp_path)

    def test_no_temporary_files_left(self, tmp_path):
        write_plan(plan(a_DOT_c="1\n"), tmp_path)
        assert sorted(p.name for p in tmp_path.iterdir()) == [MANIFEST, "a.c"]

    def test_duplicate_plan_entry_rejected(self):
        p = FilePlan()
        p.add("a", "1")
        with pytest.raises(ValueError, match="twice"):
            p.add("a", "2")

    def test_binary_files_round_trip_and_detect_edits(self, tmp_path):
        png = bytes(range(256))
        write_plan(plan(report__a_DOT_png=png), tmp_path)
        assert (tmp_path / "report" / "a.png").read_bytes() == png
        assert write_plan(plan(report__a_DOT_png=png), tmp_path).written == ()
        (tmp_path / "report" / "a.png").write_bytes(b"edited")
        with pytest.raises(HandEditError):
            write_plan(plan(report__a_DOT_png=png[::-1]), tmp_path)
