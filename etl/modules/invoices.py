"""Placeholder reader of the facturas module (replaced by its real reader)."""

from etl.modules import ModuleOutput, ModuleReader

READER = ModuleReader("facturas", lambda folder: [], lambda con, folder, info: ModuleOutput())
