"""Settings for EM: `base` is the embedded default, `production` hardens it, `test` speeds it up."""
