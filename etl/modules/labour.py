"""Placeholder reader of the laboral module (replaced by its real reader)."""

from etl.modules import ModuleOutput, ModuleReader

READER = ModuleReader("laboral", lambda folder: [], lambda con, folder, info: ModuleOutput())
