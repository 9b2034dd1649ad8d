"""Operations on a whole portal installation (backups and restores); above ``portal`` and ``etl``, below no page."""
