"""Placeholder reader of the impuestos module (replaced by its real reader)."""

from etl.modules import ModuleOutput, ModuleReader

READER = ModuleReader("impuestos", lambda folder: [], lambda con, folder, info: ModuleOutput())
