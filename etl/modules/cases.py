"""Placeholder reader of the expedientes module (replaced by its real reader)."""

from etl.modules import ModuleOutput, ModuleReader

READER = ModuleReader("expedientes", lambda folder: [], lambda con, folder, info: ModuleOutput())
