"""The paper as data (PAPER.md §4, §5): its reported numbers with their citations (:mod:`.results`), one preset
per row of its tables with our costs (:mod:`.presets`), the evidence runs behind the report's accounts
(:mod:`.evidence`) and one declarative specification per table (:mod:`.tables`).

Pure data: nothing here imports runners, the store or the report, or builds a task or model.
"""
