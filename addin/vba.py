"""The VBA and ribbon XML the add-in adds to xlwings' ribbon add-in template.

Three ribbon buttons, each with its own VBA callback that runs its own Python action through
xlwings' RunPython, the ST_* wrappers exactly as xlwings' generator writes them for `udfs`, and one
change inside xlwings' own module: `XLPy`, which every UDF call and the UDF server go through, turns
"file not found" for xlwings' DLL (another xlwings in Python) into a message that says what to do.
"""

from __future__ import annotations

import io
import types

import engine
from engine.versions import fix

from .com import com_stand_ins

PROJECT_NAME = "SenseTime"
RIBBON_MODULE = "SenseTimeRibbon"
UDF_MODULE = "xlwings_udfs"
PYTHON_MODULE = "addin.ribbon"

# VBA callback -> (button label, Python function in addin.ribbon, imageMso, screen tip)
ACTIONS = {
    "RefreshForecasts": ("Refresh forecasts", "refresh", "Refresh", "Run the Python engine on this workbook's inputs"),
    "AuditModel": ("Audit model", "audit", "MacroPlay", "Check this workbook for hardcodes, broken links and errors"),
    "ExportAnalystCopy": ("Export analyst copy", "export", "FileSaveAs", "Save a copy that works without Python"),
}


MISSING_DLL_HANDLER = "XlwingsMissing"

# xlwings' XLPy as the template has it, and as the add-in ships it.
XLPY = """Function XLPy()
    XLPyLoadDLL
    If 0 <> XLPyDLLActivateAuto(XLPy, XLPyCommand, 1) Then Err.Raise 1000, Description:=XLPy
End Function"""
XLPY_TRAPPED = f"""Function XLPy()
    ' SenseTime: a DLL that cannot be found means another xlwings in Python; {MISSING_DLL_HANDLER} says what to do.
    Dim errNumber As Long, errText As String
    On Error GoTo DllMissing
    XLPyLoadDLL
    If 0 <> XLPyDLLActivateAuto(XLPy, XLPyCommand, 1) Then Err.Raise 1000, Description:=XLPy
    Exit Function
DllMissing:
    errNumber = Err.Number
    errText = Err.Description
    If errNumber = 48 Or InStr(errText, XLPyDLLName) > 0 Then
        Err.Raise errNumber, "{PROJECT_NAME}", {MISSING_DLL_HANDLER}(errText)
    End If
    Err.Raise errNumber, Err.Source, errText
End Function"""


def _vba_text(text: str) -> str:
    """`text` as the inside of a VBA string literal, XLWINGS_VERSION spliced in where it says {xlwings}."""
    return text.replace('"', '""').replace("{xlwings}", '" & XLWINGS_VERSION & "')


def missing_dll_message() -> str:
    """What the add-in says when Excel cannot load xlwings' DLL (a VBA string expression; `reason` names the DLL)."""
    text = (
        f"The {PROJECT_NAME} add-in {{addin}} was built for xlwings {{xlwings}} and Excel cannot load its DLL "
        "({reason}): the Python it runs has another xlwings, or none. "
        "See the installed one: python -m pip show xlwings. "
        f"Fix: {fix('{xlwings}')}."
    )
    splices = {"{addin}": '" & ADDIN_VERSION & "', "{reason}": '" & reason & "'}
    vba = _vba_text(text)
    for marker, expression in splices.items():
        vba = vba.replace(marker, expression)
    return f'"{vba}"'


def ribbon_module() -> str:
    """One Sub per button, each running its own action with the add-in's xlwings version; the DLL message."""
    lines = [
        "Option Explicit",
        "' SenseTime ribbon callbacks: each button runs its own Python action (addin/ribbon.py), passing the",
        "' xlwings version this add-in was built with (XLWINGS_VERSION, xlwings module) for Python to check.",
        "",
        f'Public Const ADDIN_VERSION As String = "{engine.__version__}"',
        "Private DllMessageShown As Boolean",
        "",
    ]
    for sub, (label, action, _, _) in ACTIONS.items():
        lines += [
            f"Sub {sub}(control As IRibbonControl)",
            f"    ' {label}",
            "    On Error GoTo Failed",
            "    DllMessageShown = False  ' a click that fails on the DLL gets its one message box",
            f'    RunPython "import {PYTHON_MODULE}; {PYTHON_MODULE}.{action}(\'" & XLWINGS_VERSION & "\')"',
            "    Exit Sub",
            "Failed:",
            f'    If Err.Source <> "{PROJECT_NAME}" Then MsgBox "{label} failed: " & Err.Description, vbExclamation, '
            f'"{PROJECT_NAME}"',
            "End Sub",
            "",
        ]
    lines += [
        "' Called by XLPy (xlwings module) when xlwings' DLL cannot be loaded. Returns the text a cell shows;",
        "' it also shows it in a message box, once per session for the cells and once per ribbon click.",
        f"Public Function {MISSING_DLL_HANDLER}(reason As String) As String",
        f"    {MISSING_DLL_HANDLER} = {missing_dll_message()}",
        "    If Not DllMessageShown Then",
        "        DllMessageShown = True",
        f'        MsgBox {MISSING_DLL_HANDLER}, vbCritical, "{PROJECT_NAME}"',
        "    End If",
        "End Function",
        "",
    ]
    return "\r\n".join(lines)


def udf_module() -> str:
    """The ST_* wrappers from xlwings' own generator, as its Import Functions would write them."""
    with com_stand_ins() as (xlwings_udfs, udfs):
        out = io.StringIO()
        out.write("'Autogenerated code by xlwings - changes will be lost with next import!\n")
        out.write('#Const App = "Microsoft Excel" \'Adjust when using outside of Excel\n')
        xlwings_udfs.generate_vba_wrapper("udfs", udfs, out, types.SimpleNamespace(Name=f"{PROJECT_NAME}.xlam"))
    return out.getvalue().replace("\r\n", "\n").replace("\n", "\r\n")


def custom_ui() -> str:
    buttons = "\n".join(
        f'        <button id="{sub[0].lower() + sub[1:]}" label="{label}" size="large" '
        f'onAction="{RIBBON_MODULE}.{sub}" imageMso="{image}" screentip="{label}" supertip="{tip}" />'
        for sub, (label, _, image, tip) in ACTIONS.items()
    )
    return (
        '<customUI xmlns="http://schemas.microsoft.com/office/2006/01/customui">\n'
        "  <ribbon>\n    <tabs>\n"
        '      <tab id="senseTimeTab" label="SenseTime">\n'
        '        <group id="senseTimeModel" label="SenseTime model (DBS, 13 Jan 2023)">\n'
        f"{buttons}\n"
        "        </group>\n      </tab>\n    </tabs>\n  </ribbon>\n</customUI>\n"
    )
