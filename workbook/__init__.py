"""The openpyxl side of the model.

Build the workbook from the engine's line definitions (build, sheets, layout, styles); read it back
(reader, book); refresh its Engine sheet (refresh) and add a Monte Carlo summary (simulation, charts);
recalculate it with LibreOffice (recalc, cached) and compare it with the engine (verify); audit an
edited copy (audit, formulas); export the analyst copy (export, natives).
"""
