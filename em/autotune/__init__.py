"""AutoTune: hyper-parameter searches as nodes (docs/autotune.md). `models` holds the rows; `bundle`
reads the files, `indexing` stores them, `services` writes (live trials, promotion), `selectors` reads."""
