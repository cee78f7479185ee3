"""When a run whose files arrive one by one is ready to index, and when it must be indexed again.

The T9k SDK sends a run's folder as separate objects, in any order, with no commit call, and its
`auto_upload` sends the folder again every so often while the run trains. A run is ready once it holds
`metadata.yaml`, `index.yaml` and every file `index.yaml` names; from then on, each change of one of those
files (new bytes: a re-sent unchanged file is no change, em.api.t9k.store) asks for indexing again. Files
the index does not name (artifacts' extras, checkpoints) never do. An index.yaml that cannot be read
counts as ready, so that the indexer records what is wrong with it on the run.

Asking goes through the one indexing outbox: the run is marked `pending` in the transaction that changed
its files, and `node_committed` (the signal every committed upload sends) has em.tasks enqueue it once
that transaction is durable, stamping the request (em.services.index_outbox), so a lost message is
re-sent by the sweep. Indexing is idempotent and reads the run's files as they are when it runs; an
indexing that finds the files changed under it drops its result for the newer request's
(em.runs.indexing), so a burst of changes ends indexed at its last state.
"""

from __future__ import annotations

from em.models import IndexState, Kind, ManifestEntry, Node, Run
from em.runs import bundle, yaml_safety
from em.runs.bundle import MAX_FILE_BYTES, BundleError
from em.services import blobs
from em.services.uploads import node_committed

ALWAYS_READ = frozenset({"metadata.yaml", "index.yaml"})


def needed_files(files: dict[str, ManifestEntry]) -> set[str] | None:
    """The files indexing reads, if the run holds all of them; None while some are still to come."""
    if not files.keys() >= ALWAYS_READ:
        return None
    index = files["index.yaml"]
    if index.size > MAX_FILE_BYTES:
        return set(ALWAYS_READ)  # too big to be an index: the indexer says so
    try:
        with blobs.open_blob(index.blob_id) as stream:
            named = bundle.named_files(yaml_safety.load(stream.read(MAX_FILE_BYTES)))
    except (BundleError, yaml_safety.YAMLRefused):
        return set(ALWAYS_READ)
    if not named <= files.keys():
        return None
    return named | ALWAYS_READ


def files_changed(node: Node, changed: set[str]) -> bool:
    """Called in the transaction that changed `node`'s files (`changed` their paths): have a run
    indexed when it is ready and a file indexing reads is among them. Whether indexing was asked for."""
    if node.kind != Kind.RUN or not changed:
        return False
    needed = needed_files(blobs.manifest_files(node))
    if needed is None or not needed & changed:
        return False
    Run.objects.get_or_create(node=node)
    Run.objects.filter(node=node).update(index_state=IndexState.PENDING)
    node_committed.send(sender=Node, node=node)
    return True
