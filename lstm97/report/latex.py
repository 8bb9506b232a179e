r"""The report's tables as LaTeX: a ``<table>.tex`` per paper table, ``report.tex`` that inputs them all, and
``report.pdf`` built from it when ``pdflatex`` is on PATH.

The files are ASCII for LaTeX's default OT1 encoding (no inputenc or fontenc needed): the non-ASCII characters
of our tables are LaTeX commands (:data:`LATEX_ASCII`), and "<" and ">", which OT1 prints as "¡" and "¿",
are set in math mode. Each table is a float with an unnumbered caption (``\caption*``, from the caption package):
the caption carries the paper's own number ("Table 2. Task 2a, ..."), which a numbered caption would repeat
after LaTeX's own ("Table 1: Table 2. ..."), and our tables 2b and §5 have no number in the paper. A tabular
wider than the line is shrunk to the line width (``\resizebox``, from graphicx; a narrower one keeps its size):
the tables are short (at most about 15 rows) but up to 13 columns wide, and longtable, which breaks long
tables across pages, never narrows one. ``report.tex`` sets them on landscape pages.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd

#: The non-ASCII characters of our tables as plain LaTeX, so the .tex files need no input encoding package;
#: "<" and ">" in math mode, as OT1 text fonts have no such glyphs.
LATEX_ASCII = {
    "–": "--",
    "—": "---",
    "−": "$-$",
    "≈": r"$\approx$",
    "×": r"$\times$",
    "≥": r"$\geq$",
    "≤": r"$\leq$",
    "§": r"\S{}",
    "±": r"$\pm$",
    "·": r"$\cdot$",
    "α": r"$\alpha$",
    "⟨": r"$\langle$",
    "⟩": r"$\rangle$",
    "<": "$<$",
    ">": "$>$",
}
#: LaTeX's special characters, escaped.
SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
#: The packages a table file needs, named in its first line.
PACKAGES = ("booktabs", "graphicx", "caption")
#: The LaTeX document of the whole report's tables, and the PDF built from it.
MAIN = "report.tex"
PDF = "report.pdf"
#: Seconds pdflatex may take before it is stopped.
PDF_TIMEOUT = 120.0


def escape(text: object) -> str:
    """``text`` as LaTeX text: special characters escaped, then ASCII only (:data:`LATEX_ASCII`)."""
    table = str.maketrans({**SPECIAL, **LATEX_ASCII})
    return str(text).translate(table)


def latex(df: pd.DataFrame, caption: str) -> str:
    """A formatted table as a LaTeX table float: ``caption`` unnumbered, the tabular (booktabs rules, one left-aligned
    column per column of ``df``) shrunk to the line width if it is wider; escaped, ASCII only."""
    head = " & ".join(escape(c) for c in df.columns) + r" \\"
    body = [" & ".join(escape(v) for v in row) + r" \\" for row in df.itertuples(index=False)]
    return "\n".join(
        [
            f"% written by lstm97 report; needs \\usepackage{{{','.join(PACKAGES)}}}",
            r"\begin{table}[htbp]",
            r"\centering",
            rf"\caption*{{{escape(caption)}}}",
            r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%",
            rf"\begin{{tabular}}{{{'l' * df.shape[1]}}}",
            r"\toprule",
            head,
            r"\midrule",
            *body,
            r"\bottomrule",
            r"\end{tabular}%",
            "}",
            r"\end{table}",
            "",
        ]
    )


def document(stems: list[str], title: str) -> str:
    """``report.tex``: a landscape article that inputs the table files ``<stem>.tex`` in order, under ``title``."""
    return "\n".join(
        [
            "% The report's tables in one document (written by lstm97 report): pdflatex report.tex",
            r"\documentclass[10pt]{article}",
            r"\usepackage[landscape,margin=1.5cm]{geometry}",
            *(rf"\usepackage{{{p}}}" for p in PACKAGES),
            r"\begin{document}",
            rf"\section*{{{escape(title)}}}",
            *(rf"\input{{{stem}}}" for stem in stems),
            r"\end{document}",
            "",
        ]
    )


def write_document(out: Path, stems: list[str], title: str, timeout: float | None = None) -> list[Path]:
    """Write ``report.tex`` (inputting ``<stem>.tex`` of ``out``) and build ``report.pdf`` from it with
    ``pdflatex`` when it is on PATH; return the files written. Without pdflatex, or when it fails or takes longer
    than ``timeout`` seconds (:data:`PDF_TIMEOUT`), one line on stderr says so and no PDF is left (an earlier
    one would not match the tables)."""
    main = out / MAIN
    main.write_text(document(stems, title))
    pdf = out / PDF
    pdf.unlink(missing_ok=True)
    written = [main]
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        print(f"{PDF} not built: pdflatex is not on PATH (the tables are in {main}).", file=sys.stderr)
        return written
    failure = _run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "-no-shell-escape", MAIN], out, timeout)
    written += [p for p in (out / "report.log", out / "report.aux") if p.exists()]
    if failure is None and pdf.exists():
        return [*written, pdf]
    pdf.unlink(missing_ok=True)
    print(f"{PDF} not built: pdflatex {failure or 'wrote no PDF'} (see {out / 'report.log'}).", file=sys.stderr)
    return written


def _run(command: list[str], cwd: Path, timeout: float | None) -> str | None:
    """Run ``command`` in ``cwd`` in a session of its own, stopped with its children after ``timeout`` seconds;
    None on success, else what went wrong."""
    limit = PDF_TIMEOUT if timeout is None else timeout
    try:
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        return f"could not be started ({exc.strerror})"
    try:
        code = proc.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return f"took more than {limit:g} s and was stopped"
    except BaseException:  # Ctrl-C: stop pdflatex too
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        raise
    return None if code == 0 else f"failed (exit code {code})"
