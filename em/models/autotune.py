"""AutoTune: a hyper-parameter search as a node, indexed into trials.

An `AutoTune` row is the detail of a Node of kind AutoTune: its profile (objective, search space, limits,
status, times) and the state of its indexing, with the same outbox fields as `Run` (a pending search is
sent again by a sweep). Each `Trial` keeps its parameters as written (JSON) and flattened into
`TrialParam` rows for filtering, its final value, and its intermediate values packed as two
little-endian arrays (int64 steps, float64 values): a search of 2,000 trials x 100 points is 2,000 rows,
never 200,000.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import models

from .nodes import Node
from .runs import IndexState


class Goal(models.TextChoices):
    MAXIMIZE = "maximize"
    MINIMIZE = "minimize"


class SearchStatus(models.TextChoices):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    TIMEOUT = "TIMEOUT"
    DONE = "DONE"
    ERROR = "ERROR"


class TrialStatus(models.TextChoices):
    WAITING = "Waiting"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    PRUNED = "Pruned"
    FAILED = "Failed"
    CANCELED = "Canceled"


class AutoTune(models.Model):
    node = models.OneToOneField(Node, primary_key=True, on_delete=models.CASCADE, related_name="autotune")
    objective_metric = models.CharField(max_length=500, blank=True, default="")
    goal = models.CharField(max_length=8, choices=Goal.choices, default=Goal.MAXIMIZE)
    search_space = models.JSONField(default=dict, blank=True)
    tuner = models.JSONField(default=dict, blank=True)
    trainer = models.JSONField(default=dict, blank=True)
    max_trial_num = models.PositiveIntegerField(null=True, blank=True)
    trial_concurrency = models.PositiveIntegerField(null=True, blank=True)
    max_exec_seconds = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=SearchStatus.choices, default=SearchStatus.PENDING)
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    live = models.BooleanField(default=False, help_text="Recorded through the API rather than from files.")
    index_state = models.CharField(max_length=16, choices=IndexState.choices, default=IndexState.PENDING)
    index_errors = models.JSONField(default=list, blank=True, help_text="[{file, message}] of the last indexing.")
    indexed_at = models.DateTimeField(null=True, blank=True)
    index_requested_at = models.DateTimeField(null=True, blank=True, help_text="When indexing was last enqueued.")
    index_requests = models.PositiveIntegerField(default=0, help_text="How many times indexing was enqueued.")

    class Meta:
        indexes = [
            models.Index(
                fields=["index_requested_at"], condition=models.Q(index_state="pending"), name="em_autotune_pending"
            )
        ]

    def __str__(self) -> str:
        return f"autotune {self.node_id} ({self.status})"


class Trial(models.Model):
    autotune = models.ForeignKey(AutoTune, on_delete=models.CASCADE, related_name="trials", db_index=False)
    number = models.PositiveIntegerField(help_text="The trial's id in its search (Optuna's trial.number).")
    status = models.CharField(max_length=16, choices=TrialStatus.choices, default=TrialStatus.RUNNING)
    params = models.JSONField(default=dict, blank=True)
    value = models.FloatField(null=True, blank=True, help_text="The final objective value.")
    started_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    points = models.PositiveIntegerField(default=0)
    steps = models.BinaryField(default=b"")
    values = models.BinaryField(default=b"")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["autotune", "number"], name="em_trial_autotune_number")]
        indexes = [models.Index(fields=["autotune", "value"], name="em_trial_autotune_value")]

    def __str__(self) -> str:
        return f"trial {self.number} of {self.autotune_id} ({self.status})"

    @property
    def duration(self) -> timedelta | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.started_at


class TrialParam(models.Model):
    """One flattened parameter of a trial: text as written, and the number when it is one."""

    trial = models.ForeignKey(Trial, on_delete=models.CASCADE, related_name="param_rows", db_index=False)
    key = models.CharField(max_length=500)
    value = models.TextField()
    number = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["trial", "key"], name="em_trialparam_trial_key")]
        indexes = [models.Index(fields=["key", "number"], name="em_trialparam_key_number")]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"
