"""The openpyxl side of the model: build the workbook from the engine's line definitions (build, layout,
styles), recalculate it with LibreOffice (recalc, cached), compare it with the engine (verify), audit an
edited copy (audit, formulas) and export the analyst copy (export, natives)."""
