"""Wire compatibility with the T9k AIStore API (`/t9k/aistore/server/`), so the `t9k` SDK's `em` module
uploads runs and artifacts to EM unchanged: a thin layer over EM's nodes, blob store, indexing, lineage
and permissions (docs/t9k.md)."""
