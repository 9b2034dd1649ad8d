"""Placeholder reader of the tesoreria module (replaced by its real reader)."""

from etl.modules import ModuleOutput, ModuleReader

READER = ModuleReader("tesoreria", lambda folder: [], lambda con, folder, info: ModuleOutput())
