"""Feature services: what pages and jobs do with the portal database, the access rules and the published stores.

One layer above ``auth`` and ``reports`` (docs/architecture.md): document uploads, inbox and read marks
(``services.documents``) and the daily e-mail digest (``services.notify``).
"""
