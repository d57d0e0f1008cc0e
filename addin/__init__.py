"""What runs for Excel: the .xlam build (build, vba), the ribbon actions (ribbon), the xlwings adapter
(xlbook) and the stand-ins for Windows COM modules that let xlwings' own code run on Linux (com)."""
