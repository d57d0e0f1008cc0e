"""The sheets of the model workbook, one writer each, called by workbook.build.Builder.build.

Each writer takes the Builder and writes its sheet at the cells workbook.layout gives; none of
them knows a cell address of its own.
"""
