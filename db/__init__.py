"""The application's tables (db/models) and their migrations (db/migrations). Connections come
from the engine's helpers (inngest_temporal.db), which the event log shares."""
