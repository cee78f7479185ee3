"""Hyper-parameters that record themselves: every change is written to `hyperparameters.yaml` at once.

Training code sets hyper-parameters in every style (`hp['lr'] = 0.1`, `hp.lr = 0.1`,
`hp.optimizer.beta1 = 0.9`, `hp.update(...)`), often long after the run started; all of them land in
the bundle, so that a run that crashes still says what it was trying.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping
from typing import Any


class Hyperparameters(MutableMapping[str, Any]):
    """A live view of a nested dict; nested mappings come back as views that record changes too."""

    __slots__ = ("_data", "_on_change")

    def __init__(self, data: dict[str, Any], on_change: Callable[[], None]) -> None:
        object.__setattr__(self, "_data", data)
        object.__setattr__(self, "_on_change", on_change)

    def __getitem__(self, key: str) -> Any:
        value = self._data[key]
        return Hyperparameters(value, self._on_change) if isinstance(value, dict) else value

    def __setitem__(self, key: str, value: Any) -> None:
        self._data[str(key)] = _unwrap(value)
        self._on_change()

    def __delitem__(self, key: str) -> None:
        del self._data[key]
        self._on_change()

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"No hyper-parameter {name!r}.") from None

    def __setattr__(self, name: str, value: Any) -> None:
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(f"No hyper-parameter {name!r}.") from None

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Hyperparameters):
            return self._data == other._data
        return isinstance(other, Mapping) and self._data == dict(other)

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"Hyperparameters({self._data!r})"

    def to_dict(self) -> dict[str, Any]:
        """A deep copy as plain dicts and lists."""
        return _copy(self._data)


def _unwrap(value: Any) -> Any:
    """Store plain data: a view assigned elsewhere is copied, not shared."""
    if isinstance(value, Hyperparameters):
        return value.to_dict()
    if isinstance(value, Mapping):
        return {str(k): _unwrap(v) for k, v in value.items()}
    return value


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value
