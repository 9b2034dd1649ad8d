"""Placeholder reader of the documentos module (replaced by its real reader)."""

from etl.modules import ModuleOutput, ModuleReader

READER = ModuleReader("documentos", lambda folder: [], lambda con, folder, info: ModuleOutput())
