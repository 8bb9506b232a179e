"""The report's LaTeX: OT1-safe cells ("<" and ">" in math), unnumbered captions that keep the paper's number,
tabulars shrunk to the line, and report.tex built into report.pdf by pdflatex when it is on PATH (here a fake
pdflatex that records how it was called; the machine has none) and skipped with one line when it is not."""

from __future__ import annotations

import contextlib
import io
import os
import re
import stat
import time
from pathlib import Path

import pandas as pd
import pytest

from lstm97.report import latex as latex_module
from lstm97.report.build import MARKER, build
from lstm97.report.latex import MAIN, PDF, escape, latex, write_document
from lstm97.results import importer

PUBLISHED = Path(__file__).resolve().parents[1] / "docs" / "reproduction"
STEMS = [
    "table1",
    "table2",
    "table2b",
    "chunker1992",
    "table3",
    "table4",
    "table5",
    "table6",
    "table7",
    "table8",
    "table9",
    "guessing",
    "gers2000_table2",
    "modern",
]


def bare_comparisons(tex: str) -> list[str]:
    """The "<" and ">" of ``tex`` outside "$<$" / "$>$" and outside the \\resizebox width test."""
    tex = tex.replace(r"\ifdim\width>\linewidth", "")
    return re.findall(r"(?<!\$)[<>]|[<>](?!\$)", tex)


def test_comparisons_are_math_so_ot1_does_not_print_inverted_marks():
    tex = latex(pd.DataFrame({"paper": [">200,000", "<0.5"], "ours": ["≥ 3", "a > b"]}), "Table 1. x < y")
    assert "$>$200,000" in tex and "$<$0.5" in tex and "a $>$ b" in tex and r"$\geq$ 3" in tex
    assert r"\caption*{Table 1. x $<$ y}" in tex
    assert tex.isascii() and not bare_comparisons(tex)


def test_special_characters_are_escaped():
    assert escape("100 % & #1 a_b {x} $5 ~ ^ \\") == (
        r"100 \% \& \#1 a\_b \{x\} \$5 \textasciitilde{} \textasciicircum{} \textbackslash{}"
    )
    assert escape("1.0–10.0 ≈170 §5 ± × · − —") == r"1.0--10.0 $\approx$170 \S{}5 $\pm$ $\times$ $\cdot$ $-$ ---"


def test_the_caption_is_unnumbered_and_keeps_the_papers_number():
    """\\caption*: no "Table 1: Table 2. ..." (LaTeX's number before the paper's)."""
    tex = latex(pd.DataFrame({"id": ["2a"]}), "Table 2. Task 2a, noise-free sequences")
    assert r"\caption*{Table 2. Task 2a, noise-free sequences}" in tex and r"\caption{" not in tex
    assert tex.startswith("% written by lstm97 report; needs \\usepackage{booktabs,graphicx,caption}\n")


def test_the_tabular_is_shrunk_to_the_line_width_only_when_wider():
    df = pd.DataFrame({f"column {i}": [f"value {i}"] for i in range(13)})
    tex = latex(df, "Table 2. wide")
    lines = tex.splitlines()
    begin = lines.index(r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%")
    assert lines[begin + 1] == r"\begin{tabular}{" + "l" * 13 + "}"
    assert lines[begin + 2 : begin + 3] == [r"\toprule"] and r"\bottomrule" in lines
    end = lines.index(r"\end{tabular}%")
    assert lines[end + 1] == "}" and lines[end + 2] == r"\end{table}"
    assert tex.count("{") - tex.count(r"\{") == tex.count("}") - tex.count(r"\}")
    assert lines[begin + 3].count(" & ") == 12 and lines[begin + 3].endswith(r" \\")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A report (tables only) of the published trials, built without pdflatex on PATH: (its directory, the
    lines it printed on stderr)."""
    tmp = tmp_path_factory.mktemp("latex")
    store = tmp / "s.sqlite"
    importer.import_csv(PUBLISHED / "trials.csv", store)
    (tmp / "bin").mkdir()
    err = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stderr(err):
        mp.setenv("PATH", str(tmp / "bin"))  # no pdflatex, whatever the machine has
        build(store, tmp / "report", figures=False)
    return tmp / "report", err.getvalue().splitlines()


def test_the_reports_tables_are_ascii_with_no_bare_comparison_marks(report):
    out, _ = report
    marks = 0
    for stem in STEMS:
        tex = (out / f"{stem}.tex").read_text()
        assert tex.isascii() and not bare_comparisons(tex), stem
        assert tex.count(r"\caption*{") == 1 and r"\caption{" not in tex and r"\resizebox{" in tex
        marks += tex.count("$>$")
    assert marks >= 4  # the published tables' ">200,000" (Table 1) and ">5,000,000" (Table 2) cells
    assert "$>$200,000" in (out / "table1.tex").read_text()
    assert r"\caption*{Table 2. Task 2a" in (out / "table2.tex").read_text()


def test_report_tex_inputs_every_table_in_order(report):
    out, _ = report
    main = (out / MAIN).read_text()
    assert re.findall(r"\\input\{(\w+)\}", main) == STEMS
    for package in ("booktabs", "graphicx", "caption"):
        assert rf"\usepackage{{{package}}}" in main
    assert r"\documentclass" in main and main.rstrip().endswith(r"\end{document}") and main.isascii()
    assert r"\section*{Reproduction of Hochreiter \& Schmidhuber (1997), Tables 1--9}" in main


def test_without_pdflatex_the_pdf_is_skipped_with_one_line(report):
    out, err = report
    assert err == [f"{PDF} not built: pdflatex is not on PATH (the tables are in {out / MAIN})."]
    assert not (out / PDF).exists()
    listed = (out / MARKER).read_text().splitlines()
    assert MAIN in listed and PDF not in listed


def fake_pdflatex(bin_dir: Path, body: str) -> Path:
    """A ``pdflatex`` script in ``bin_dir`` that appends its working directory and arguments to ``calls.log``
    there, then runs ``body``."""
    bin_dir.mkdir(exist_ok=True)
    script = bin_dir / "pdflatex"
    log = bin_dir / "calls.log"
    script.write_text(
        f'#!/bin/sh\necho "cwd=$PWD" >> "{log}"\nfor a in "$@"; do echo "arg=$a" >> "{log}"; done\n{body}\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return log


def tables_dir(tmp_path: Path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    for stem in STEMS[:2]:
        (out / f"{stem}.tex").write_text(latex(pd.DataFrame({"a": [">1"]}), f"Table {stem[-1]}. x"))
    return out


def test_with_pdflatex_the_pdf_is_built_in_the_report_directory(tmp_path, monkeypatch, capsys):
    log = fake_pdflatex(tmp_path / "bin", "echo '%PDF-1.4 fake' > report.pdf\necho log > report.log")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    out = tables_dir(tmp_path)
    written = write_document(out, STEMS[:2], "Title")
    assert written == [out / MAIN, out / "report.log", out / PDF]
    calls = log.read_text().splitlines()
    assert calls[0] == f"cwd={out}"
    assert [c.removeprefix("arg=") for c in calls[1:]] == [
        "-interaction=nonstopmode",
        "-halt-on-error",
        "-no-shell-escape",
        MAIN,
    ]
    assert (out / PDF).read_text().startswith("%PDF") and capsys.readouterr().err == ""


def test_build_lists_the_pdf_when_pdflatex_made_it(tmp_path, monkeypatch):
    fake_pdflatex(tmp_path / "bin", "echo '%PDF-1.4 fake' > report.pdf")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    store = tmp_path / "s.sqlite"
    with (PUBLISHED / "trials.csv").open() as f:
        head = [next(f) for _ in range(40)]  # header and 39 trials of Table 1's rows
    (tmp_path / "few.csv").write_text("".join(head))
    importer.import_csv(tmp_path / "few.csv", store)
    written = build(store, tmp_path / "report", figures=False)
    assert tmp_path / "report" / PDF in written
    assert PDF in (tmp_path / "report" / MARKER).read_text().splitlines()


def test_a_failing_pdflatex_leaves_no_pdf_and_says_so(tmp_path, monkeypatch, capsys):
    fake_pdflatex(tmp_path / "bin", "echo partial > report.pdf\nexit 1")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    out = tables_dir(tmp_path)
    assert write_document(out, STEMS[:2], "Title") == [out / MAIN]
    assert not (out / PDF).exists()
    err = capsys.readouterr().err.splitlines()
    assert err == [f"{PDF} not built: pdflatex failed (exit code 1) (see {out / 'report.log'})."]


def test_a_pdflatex_that_hangs_is_stopped_after_the_timeout(tmp_path, monkeypatch, capsys):
    fake_pdflatex(tmp_path / "bin", "sleep 60 &\nexec sleep 60")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    out = tables_dir(tmp_path)
    t0 = time.monotonic()
    assert write_document(out, STEMS[:2], "Title", timeout=0.5) == [out / MAIN]
    assert time.monotonic() - t0 < 10
    assert "took more than 0.5 s and was stopped" in capsys.readouterr().err


def test_an_earlier_pdf_is_removed_when_none_is_built(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    out = tables_dir(tmp_path)
    (out / PDF).write_text("%PDF of older tables")
    assert write_document(out, STEMS[:2], "Title") == [out / MAIN]
    assert not (out / PDF).exists() and "pdflatex is not on PATH" in capsys.readouterr().err


def test_the_default_timeout_is_bounded():
    assert 10 <= latex_module.PDF_TIMEOUT <= 600
