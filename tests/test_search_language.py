"""The run filter language: every operator on params, metrics, tags and attributes, precedence, quoting,
ordering, and errors that point at the first bad token (ARCHITECTURE.md §4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from em.models import Kind, MetricSeries, Node, Param, Run, Tag
from em.runs.selectors import search_runs
from em.search import FilterError, OrderByError, like_to_regex
from em.search.compiler import MAX_COMPARISONS, MAX_NESTING
from em.search.grammar import MAX_LENGTH
from tests.factories import folder, root

pytestmark = pytest.mark.django_db

JAN = datetime(2026, 1, 1, tzinfo=UTC)


def make_run(
    parent: Node,
    name: str,
    *,
    status: str = "Complete",
    started: datetime | None = None,
    ended: datetime | None = None,
    params: dict[str, Any] | None = None,
    metrics: dict[str, tuple[float, float, float]] | None = None,
    tags: dict[str, str] | None = None,
) -> Node:
    """A Run node (through the services) with its run row, params, metric summaries (min, max, latest)
    and tags written directly, as indexing would leave them."""
    node = folder(parent, name, kind=Kind.RUN)
    run = Run.objects.create(node=node, status=status, started_at=started, ended_at=ended, source_type="SDK")
    Param.objects.bulk_create(
        Param(run=run, key=k, value=str(v), number=float(v) if isinstance(v, int | float) else None)
        for k, v in (params or {}).items()
    )
    MetricSeries.objects.bulk_create(
        MetricSeries(run=run, key=k, count=3, min=lo, max=hi, latest=last)
        for k, (lo, hi, last) in (metrics or {}).items()
    )
    Tag.objects.bulk_create(Tag(run=run, key=k, value=v) for k, v in (tags or {}).items())
    return node


@pytest.fixture
def runs(alice: Any) -> dict[str, Node]:
    exp = folder(root(alice), "exp")
    sub = folder(exp, "sub")
    return {
        "r1": make_run(
            exp,
            "r1",
            started=JAN,
            ended=JAN + timedelta(seconds=100),
            params={"lr": 0.01, "optimizer": "adam", "batch size": 32, "model.depth": 18},
            metrics={"train.loss": (0.1, 2.0, 0.2), "val.acc": (0.5, 0.9, 0.9)},
            tags={"team": "vision", "my tag": "x"},
        ),
        "r2": make_run(
            exp,
            "r2",
            status="Error",
            started=JAN + timedelta(days=1),
            ended=JAN + timedelta(days=1, seconds=50),
            params={"lr": 0.1, "optimizer": "sgd"},
            metrics={"train.loss": (0.3, 1.5, 0.4), "val.acc": (0.4, 0.7, 0.6)},
            tags={"team": "nlp"},
        ),
        "r3": make_run(
            sub,
            "r3",
            status="Running",
            started=JAN + timedelta(days=2),
            params={"lr": "auto", "optimizer": "Adam"},
            metrics={"train.loss": (0.05, 3.0, 0.05)},
        ),
        "r4": make_run(exp, "r4"),
    }


def names(user: Any, text: str, **kwargs: Any) -> set[str]:
    return {node.name for node in search_runs(user=user, filter=text, **kwargs)}


def ordered(user: Any, *order_by: str) -> list[str]:
    return [node.name for node in search_runs(user=user, order_by=order_by)]


MS_JAN_2 = int((JAN + timedelta(days=1)).timestamp() * 1000)

CASES = [
    ("", "r1 r2 r3 r4"),
    ("   ", "r1 r2 r3 r4"),
    # params compared with numbers use the number; text params and missing keys never match
    ("params.lr = 0.01", "r1"),
    ("params.lr != 0.01", "r2"),
    ("params.lr < 0.05", "r1"),
    ("params.lr <= 0.1", "r1 r2"),
    ("params.lr > 0.01", "r2"),
    ("params.lr >= 1e-2", "r1 r2"),
    ("params.lr > -1", "r1 r2"),
    ("params.lr IN (0.01, 0.5)", "r1"),
    ("params.lr NOT IN (0.01)", "r2"),
    # ...and with strings use the text as written
    ("params.lr = 'auto'", "r3"),
    ("params.lr != 'auto'", "r1 r2"),
    ("params.lr = '0.01'", "r1"),
    ("params.optimizer = 'adam'", "r1"),
    ("params.optimizer < 'b'", "r1 r3"),
    ("params.optimizer >= 's'", "r2"),
    ("params.optimizer LIKE 'a%'", "r1"),
    ("params.optimizer LIKE '_dam'", "r1 r3"),
    ("params.optimizer LIKE 'a_'", ""),
    ("params.optimizer ILIKE 'A%'", "r1 r3"),
    ("params.optimizer IN ('adam', \"sgd\")", "r1 r2"),
    ("params.optimizer NOT IN ('adam')", "r2 r3"),
    ("params.lr IN (0.01, 'auto')", "r1 r3"),
    ("params.lr NOT IN (0.01, 'auto')", "r2"),
    ("param.optimizer == 'sgd'", "r2"),
    ("params.optimizer <> 'sgd'", "r1 r3"),
    # keys: dots belong to the key; backticks or double quotes hold spaces
    ("params.model.depth = 18", "r1"),
    ("params.`batch size` = 32", "r1"),
    ("params.\"batch size\" = '32'", "r1"),
    ("params.`model.depth` > 10", "r1"),
    # metrics: LATEST by default, MIN and MAX on request
    ("metrics.train.loss < 0.3", "r1 r3"),
    ("LATEST(metrics.train.loss) = 0.4", "r2"),
    ("MIN(metrics.train.loss) < 0.2", "r1 r3"),
    ("min(metrics.train.loss) >= 0.3", "r2"),
    ("MAX(metrics.train.loss) > 2", "r3"),
    ("MAX(metrics.train.loss) <= 2", "r1 r2"),
    ("metrics.val.acc != 0.9", "r2"),
    ("metrics.val.acc IN (0.9, 0.6)", "r1 r2"),
    ("metrics.val.acc NOT IN (0.9)", "r2"),
    ("metrics.val.acc > 5e-1", "r1 r2"),
    ("metric.val.acc >= 0.6", "r1 r2"),
    ("metrics.val.acc>0.7", "r1"),
    # tags
    ("tags.team = 'vision'", "r1"),
    ("tags.team != 'vision'", "r2"),
    ('tags.`my tag` = "x"', "r1"),
    ("tag.team LIKE '%i%'", "r1"),
    ("tags.team ILIKE 'NLP'", "r2"),
    ("tags.team IN ('nlp', 'x')", "r2"),
    ("tags.team NOT IN ('nlp')", "r1"),
    ("tags.team LIKE 'vision\\%'", ""),
    ("tags.team LIKE 'vi_ion'", "r1"),
    ("tags.team LIKE 'vi\\_ion'", ""),
    # attributes
    ("attributes.status = 'Complete'", "r1 r4"),
    ("attributes.status = 'finished'", "r1 r4"),
    ("attribute.status != 'Complete'", "r2 r3"),
    ("attributes.status IN ('Error', 'running')", "r2 r3"),
    ("attributes.status NOT IN ('COMPLETE')", "r2 r3"),
    ("attributes.status LIKE 'Run%'", "r3"),
    ("attributes.name = 'r2'", "r2"),
    ("attributes.run_name ILIKE 'R1'", "r1"),
    ("attributes.name LIKE 'r%'", "r1 r2 r3 r4"),
    ("attributes.name > 'r2'", "r3 r4"),
    ("attributes.start_time > '2026-01-01T12:00:00Z'", "r2 r3"),
    (f"attributes.start_time < {MS_JAN_2}", "r1"),
    (f"attributes.start_time >= {MS_JAN_2}", "r2 r3"),
    ("attributes.start_time = '2026-01-01T00:00:00'", "r1"),
    ("attributes.end_time <= '2026-01-01T00:01:40+00:00'", "r1"),
    ("attributes.end_time != '2026-01-01T00:01:40Z'", "r2"),
    ("attributes.created > '2000-01-01T00:00:00Z'", "r1 r2 r3 r4"),
    ("attributes.duration > 60", "r1"),
    ("attributes.duration <= 60", "r2"),
    ("attributes.duration = 50", "r2"),
    ("attributes.created_by = 'alice'", "r1 r2 r3 r4"),
    ("attributes.created_by != 'alice'", ""),
    ("attributes.path = '/alice/exp/r1'", "r1"),
    ("attributes.path IN ('/alice/exp/r1', '/alice/exp/sub/r3', '/nobody/x')", "r1 r3"),
    ("attributes.path != '/alice/exp/r1'", "r2 r3 r4"),
    ("attributes.path LIKE '/alice/exp/sub/%'", "r3"),
    ("attributes.path LIKE '/alice/%'", "r1 r2 r3 r4"),
    ("attributes.path LIKE '/nobody/%'", ""),
    # AND binds tighter than OR; parentheses and NOT; keywords in any case
    ("params.optimizer = 'adam' OR params.optimizer = 'sgd' AND metrics.val.acc > 0.8", "r1"),
    ("(params.optimizer = 'adam' OR params.optimizer = 'sgd') AND metrics.val.acc > 0.8", "r1"),
    ("(params.optimizer = 'sgd' or params.optimizer = 'Adam') and metrics.train.loss < 1", "r2 r3"),
    ("params.lr > 0 and params.lr < 1 or tags.team = 'nlp'", "r1 r2"),
    ("NOT params.optimizer = 'adam'", "r2 r3 r4"),
    ("not (tags.team = 'vision' or tags.team = 'nlp') and attributes.status = 'Complete'", "r4"),
    ("((((params.lr = 0.1))))", "r2"),
    ("params.lr = 0.1\n  AND\ttags.team = 'nlp'", "r2"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_filter_matches(runs: dict[str, Node], alice: Any, text: str, expected: str) -> None:
    assert names(alice, text) == set(expected.split())


def test_run_id(runs: dict[str, Node], alice: Any) -> None:
    r1, r2 = runs["r1"].pk, runs["r2"].pk
    assert names(alice, f"attributes.run_id = '{r2}'") == {"r2"}
    assert names(alice, f"attributes.run_id IN ('{r1}', \"{r2}\")") == {"r1", "r2"}
    assert names(alice, f"attributes.run_id NOT IN ('{r1}')") == {"r2", "r3", "r4"}


def test_string_escapes(alice: Any) -> None:
    make_run(root(alice), "q", tags={"quote": 'it\'s "here"', "path": "a\\b"})
    assert names(alice, "tags.quote = 'it\\'s \"here\"'") == {"q"}
    assert names(alice, 'tags.quote = "it\'s \\"here\\""') == {"q"}
    assert names(alice, "tags.path = 'a\\\\b'") == {"q"}


def test_like_to_regex_keeps_sql_wildcards_and_escapes() -> None:
    assert like_to_regex("a%b_c") == "(?s)^a.*b.c$"
    assert like_to_regex("100\\%") == "(?s)^100%$"
    assert like_to_regex("a.b") == "(?s)^a\\.b$"


ERRORS = [
    # syntax: the first bad token, where it is, and what would have fitted
    ("metrics.acc > )", 14, ")", "Unexpected ')' at column 15: expected a value"),
    ("metrics.acc >", 13, "", "Unexpected end of filter at column 14: expected a value"),
    ("params.lr = 1 AND", 17, "", "Unexpected end of filter at column 18"),
    ("params.lr = 1 params.x = 2", 14, "params.x", "Unexpected 'params.x' at column 15: expected AND or OR or the end"),
    ("(params.lr = 1", 14, "", "Unexpected end of filter at column 15: expected ')' or AND or OR"),
    ("params.lr @ 1", 10, "@", "Unexpected '@' at column 11: expected an operator"),
    ("foo = 1", 0, "foo", "Unexpected 'foo' at column 1: expected '(' or NOT or a key"),
    ("tags.a = 'x", 9, "'", 'Unexpected "\'" at column 10'),
    ("metrics.", 8, "", "Unexpected end of filter at column 9: expected a key name"),
    ("params.lr IN 1", 13, "1", "Unexpected '1' at column 14: expected '('"),
    ("params.lr = 1 AND\n  (params.x =)", 31, ")", "Unexpected ')' at column 14 of line 2: expected a value"),
    ("tags.`` = 'x'", 0, "tags.``", "tags.`` names no key."),
    ("metrics.a = 1e999", 12, "1e999", "The number 1e999 is too large."),
    # types: a clear error at the token at fault
    ("metrics.val.acc > 'x'", 18, "'x'", "metrics.val.acc holds numbers: compare it with a number, not 'x'."),
    ("metrics.val.acc LIKE 'x%'", 16, "LIKE", "LIKE compares text, and metrics.val.acc holds numbers."),
    ("params.x = 1 OR MIN(params.lr) > 1", 16, "MIN", "MIN applies to metrics only, not params.lr."),
    ("params.x LIKE 5", 14, "5", "LIKE compares text: quote the value, as in '5'."),
    ("tags.team = 5", 12, "5", "tags.team holds text: quote the value, as in '5'."),
    ("attributes.foo = 'x'", 0, "attributes.foo", "Unknown attribute 'foo': one of status, name,"),
    ("attributes.status = 'done'", 20, "'done'", "Unknown status 'done': one of Running, Complete, Error, Killed."),
    ("attributes.start_time > 'soon'", 24, "'soon'", "attributes.start_time compares with an ISO 8601 time"),
    ("attributes.duration IN (1, 2)", 20, "IN", "attributes.duration compares with =, !=, <, <=, > or >=, not IN."),
    ("attributes.duration LIKE '1%'", 20, "LIKE", "LIKE compares text, and attributes.duration is not text."),
    ("attributes.run_id = 'nope'", 20, "'nope'", "'nope' is not a run id."),
    ("attributes.run_id > 'x'", 18, ">", "attributes.run_id compares with =, !=, IN or NOT IN, not >."),
    ("attributes.path LIKE '/a%'", 21, "'/a%'", "attributes.path LIKE takes a folder's path and '/%'"),
]


@pytest.mark.parametrize(("text", "position", "token", "message"), ERRORS)
def test_errors_point_at_the_first_bad_token(alice: Any, text: str, position: int, token: str, message: str) -> None:
    with pytest.raises(FilterError) as caught:
        search_runs(user=alice, filter=text)
    error = caught.value
    assert error.message.startswith(message)
    assert (error.position, error.token) == (position, token)
    line_start = text.rfind("\n", 0, position) + 1
    assert (error.line, error.column) == (text.count("\n", 0, position) + 1, position - line_start + 1)
    assert error.detail["position"] == position


def test_syntax_errors_say_what_was_expected(alice: Any) -> None:
    with pytest.raises(FilterError) as caught:
        search_runs(user=alice, filter="metrics.acc > )")
    assert caught.value.detail == {"position": 14, "line": 1, "column": 15, "token": ")", "expected": ["a value"]}


def test_limits_on_size_nesting_and_terms(alice: Any) -> None:
    deep = "params.a = 1"
    for _ in range(MAX_NESTING // 2 + 1):
        deep = f"(params.a = 1 OR {deep}) AND params.b = 2"
    with pytest.raises(FilterError, match="nests more than"):
        search_runs(user=alice, filter=deep)
    many = " OR ".join(["params.a = 1"] * (MAX_COMPARISONS + 1))
    with pytest.raises(FilterError, match="at most 100 comparisons") as caught:
        search_runs(user=alice, filter=many)
    assert caught.value.position == many.rindex("params.a")
    with pytest.raises(FilterError, match="characters long"):
        search_runs(user=alice, filter="params.a = '" + "x" * MAX_LENGTH + "'")
    assert names(alice, " OR ".join(["params.a = 1"] * MAX_COMPARISONS)) == set()


def test_order_by_metric_param_attribute_with_missing_keys_last(runs: dict[str, Node], alice: Any) -> None:
    assert ordered(alice) == ["r3", "r2", "r1", "r4"]  # newest first; never started last
    assert ordered(alice, "metrics.val.acc DESC")[:2] == ["r1", "r2"]
    assert ordered(alice, "metrics.val.acc asc")[:2] == ["r2", "r1"]
    assert ordered(alice, "MIN(metrics.train.loss)")[:3] == ["r3", "r1", "r2"]
    assert ordered(alice, "params.lr") == ["r1", "r2", "r3", "r4"]  # numbers, then text, then missing
    assert ordered(alice, "params.lr DESC") == ["r2", "r1", "r3", "r4"]
    assert ordered(alice, "attributes.start_time") == ["r1", "r2", "r3", "r4"]
    assert ordered(alice, "attributes.duration DESC")[:2] == ["r1", "r2"]
    assert ordered(alice, "tags.team DESC, attributes.name DESC") == ["r1", "r2", "r4", "r3"]
    assert ordered(alice, "tags.team", "attributes.name DESC") == ["r2", "r1", "r4", "r3"]
    assert ordered(alice, "attributes.status, attributes.name") == ["r1", "r4", "r2", "r3"]


def test_ties_break_on_id_so_pages_are_stable(runs: dict[str, Node], alice: Any) -> None:
    missing = ordered(alice, "metrics.val.acc DESC")[2:]
    assert missing == sorted(missing, key=lambda name: runs[name].pk)


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("metrics.acc up", 12, "Unexpected 'up' at column 13: expected ',' or ASC or DESC or the end"),
        ("attributes.path", 0, "Runs cannot be ordered by attributes.path."),
        ("MAX(tags.x) DESC", 0, "MAX applies to metrics only, not tags.x."),
        ("attributes.colour", 0, "Unknown attribute 'colour'"),
    ],
)
def test_order_by_errors(alice: Any, text: str, position: int, message: str) -> None:
    with pytest.raises(OrderByError) as caught:
        search_runs(user=alice, order_by=[text])
    assert caught.value.message.startswith(message)
    assert caught.value.position == position
    assert caught.value.code == "invalid_order_by"


def test_a_filter_is_parsed_once_and_a_bad_one_is_refused_every_time() -> None:
    """Parse trees are kept by text (`grammar._tree`): the same text gives the same (frozen) tree; an
    ordering comes out as a new list each time, so a caller that changes it changes no later answer; a
    text that does not parse is refused again, with its position, however often it is sent."""
    from em.search.grammar import parse_filter, parse_order

    text = "params.opt = 'adam' AND metrics.acc > 0.9"
    assert parse_filter(text) is parse_filter(text)
    first = parse_order("metrics.acc DESC, params.lr")
    first.clear()
    assert [term.entity.label for term in parse_order("metrics.acc DESC, params.lr")] == ["metrics.acc", "params.lr"]
    for _ in range(2):
        with pytest.raises(FilterError) as refused:
            parse_filter("params.opt = ")
        assert refused.value.position == len("params.opt = ")
