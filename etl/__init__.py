"""The ETL: reads the firm's exports, validates them and publishes per-company snapshots."""
