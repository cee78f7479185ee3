// The runs table: runs of a folder (with or without its sub-folders) or every run you may see, narrowed
// by the filter language, with chosen param/metric columns, sorting, a selection kept across folders for
// comparing and deleting, CSV export, and rows that update while runs are running.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link, useNavigate, useSearchParams } from "react-router-dom";
import { ApiError, fetchAll, getNode, messageOf, type Node } from "../api";
import { ConfirmDialog, EmptyState, ErrorState, GetStarted, Labels, Loading, VirtualTable, formatDate, usePagedRows } from "../components";
import type { Column, Sort } from "../components";
import { exportUrl, rowKeys, rowsByIds, searchRuns, trashRun } from "./api";
import type { KnownKeys } from "./filterKeys";
import { formatNumber } from "./chartData";
import {
  cellValue,
  collectKeys,
  columnId,
  defaultColumns,
  emptyKeys,
  loadColumns,
  saveColumns,
  type KeyColumn,
  type KeySets,
} from "./columns";
import { errorSpan, scopedFilter, type ErrorSpan } from "./filterLang";
import { ColumnPicker } from "./ColumnPicker";
import { FilterBox } from "./FilterBox";
import { formatDuration, quoteKey, runDuration } from "./format";
import { useSelection } from "./selection";
import { StatusBadge } from "./StatusBadge";
import { runsEn } from "./strings";
import type { FilterErrorDetail, RunRow } from "./types";
import "./runs.css";

const PAGE_SIZE = 200;
const LIVE_MS = 4000;
const MAX_DIRECT = 1000; // direct runs listed by id when sub-folders are left out
const MAX_COMPARE = 100;

function parseOrder(text: string | null): Sort | undefined {
  if (!text) return undefined;
  const m = /^(.*?)\s+(ASC|DESC)$/i.exec(text.trim());
  return m ? { key: m[1], descending: m[2].toUpperCase() === "DESC" } : { key: text.trim(), descending: false };
}

export function RunsPage() {
  const [params, setParams] = useSearchParams();
  const navigate = useNavigate();
  const folderId = params.get("folder");
  const recursive = params.get("recursive") !== "0";
  const filter = params.get("filter") ?? "";
  const order = parseOrder(params.get("order_by"));
  const orderBy = order ? `${order.key} ${order.descending ? "DESC" : "ASC"}` : undefined;
  // The checkbox answers at once; the URL (a router transition) and the reload follow.
  const [recursiveShown, setRecursiveShown] = useState(recursive);
  useEffect(() => setRecursiveShown(recursive), [recursive]);
  const [draft, setDraft] = useState(filter);
  useEffect(() => setDraft(filter), [filter]);

  const setParam = useCallback(
    (changes: Record<string, string | null>) => {
      const next = new URLSearchParams(params);
      for (const [k, v] of Object.entries(changes)) {
        if (v === null || v === "") next.delete(k);
        else next.set(k, v);
      }
      setParams(next);
    },
    [params, setParams],
  );

  // The folder: its path for the title; and its own runs when sub-folders are left out.
  const [folder, setFolder] = useState<{ node: Node | null; direct: string[] | null; tooMany: number; error: unknown }>({
    node: null,
    direct: null,
    tooMany: 0,
    error: null,
  });
  const [folderReady, setFolderReady] = useState(!folderId);
  useEffect(() => {
    if (!folderId) {
      setFolder({ node: null, direct: null, tooMany: 0, error: null });
      setFolderReady(true);
      return;
    }
    const controller = new AbortController();
    setFolderReady(false);
    (async () => {
      const node = await getNode(folderId, controller.signal);
      let direct: string[] | null = null;
      let tooMany = 0;
      if (!recursive) {
        const children = await fetchAll<Node>(`/nodes/${folderId}/children`, { kind: "Run" }, controller.signal);
        if (children.length > MAX_DIRECT) tooMany = children.length;
        else direct = children.map((c) => c.id);
      }
      setFolder({ node, direct, tooMany, error: null });
      setFolderReady(true);
    })().catch((error: unknown) => {
      if (controller.signal.aborted) return;
      setFolder({ node: null, direct: null, tooMany: 0, error });
      setFolderReady(true);
    });
    return () => controller.abort();
  }, [folderId, recursive]);

  // The keys the runs in scope have: the filter box completes them and warns of one no run has.
  const [knownKeys, setKnownKeys] = useState<KnownKeys | null>(null);
  useEffect(() => {
    const controller = new AbortController();
    setKnownKeys(null);
    rowKeys({ folder: folderId }, controller.signal).then(setKnownKeys, () => undefined);
    return () => controller.abort();
  }, [folderId]);

  const scoped = useMemo(() => scopedFilter(filter, folder.direct), [filter, folder.direct]);
  const query = useMemo(
    () => ({ filter: scoped.text, folder: folderId, orderBy }),
    [scoped.text, folderId, orderBy],
  );

  // Keys seen in the loaded rows feed the column picker.
  const keysRef = useRef<KeySets>(emptyKeys());
  const [keysVersion, setKeysVersion] = useState(0);
  const resetKey = folderReady ? JSON.stringify(query) : "waiting";
  useEffect(() => {
    keysRef.current = emptyKeys();
    setKeysVersion((v) => v + 1);
  }, [resetKey]);
  // Which loaded runs this user may change: Delete is not offered for a selection holding one they may not.
  const editable = useRef(new Map<string, boolean>());
  const onPage = useCallback((rows: RunRow[]) => {
    for (const row of rows) editable.current.set(row.id, row.access === "edit" || row.access === "owner");
    if (collectKeys(keysRef.current, rows)) setKeysVersion((v) => v + 1);
  }, []);
  // Past 1,000 matches the server says "1,000+" (`count_exact` false) rather than count them all, which
  // would hold up the first rows; the exact number is asked for apart and replaces it when it comes.
  const [countExact, setCountExact] = useState(true);
  const [exactTotal, setExactTotal] = useState<number | null>(null);
  const fetchPage = useCallback(
    (page: number, pageSize: number, signal: AbortSignal) =>
      folderReady
        ? searchRuns({ ...query, page, pageSize }, signal).then((answer) => {
            if (page === 1) setCountExact(answer.count_exact);
            return answer;
          })
        : new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(new DOMException("", "AbortError")))),
    [folderReady, query],
  );
  const paged = usePagedRows<RunRow>(fetchPage, resetKey, PAGE_SIZE, onPage);
  const pagedReload = paged.reload;
  const reload = useCallback(() => {
    setCountExact(true);
    setExactTotal(null);
    pagedReload();
  }, [pagedReload]);
  useEffect(() => {
    setCountExact(true);
    setExactTotal(null);
  }, [resetKey]);
  useEffect(() => {
    if (countExact || !folderReady) return;
    const controller = new AbortController();
    searchRuns({ ...query, page: 1, pageSize: 1, exactCount: true }, controller.signal)
      .then((answer) => setExactTotal(answer.count))
      .catch(() => {
        // The table keeps "1,000+"; the count is asked for again with the next reload.
      });
    return () => controller.abort();
  }, [countExact, folderReady, query]);
  const total = exactTotal ?? paged.count;

  // Live rows: running runs refreshed in place; a new or removed run reloads the list.
  const [fresh, setFresh] = useState<Record<string, RunRow>>({});
  useEffect(() => setFresh({}), [resetKey]);
  const pagedRowAt = paged.rowAt;
  const rowAt = useCallback(
    (i: number) => {
      const row = pagedRowAt(i);
      return row ? (fresh[row.id] ?? row) : undefined;
    },
    [pagedRowAt, fresh],
  );
  const [visible, setVisible] = useState<[number, number]>([0, 0]);
  const pagedOnRange = paged.onRange;
  const onRange = useCallback(
    (first: number, last: number) => {
      setVisible((v) => (v[0] === first && v[1] === last ? v : [first, last]));
      pagedOnRange(first, last);
    },
    [pagedOnRange],
  );
  const countRef = useRef(total);
  countRef.current = total;
  const exactRef = useRef(exactTotal !== null);
  exactRef.current = exactTotal !== null;
  const runningIds = useMemo(() => {
    const ids: string[] = [];
    for (let i = visible[0]; i <= visible[1]; i++) {
      const row = rowAt(i);
      if (row?.run.status === "Running") ids.push(row.id);
    }
    return ids;
  }, [visible, rowAt]);
  const running = runningIds.join(",");
  useEffect(() => {
    if (!folderReady) return;
    const controller = new AbortController();
    const tick = async () => {
      if (document.hidden) return;
      try {
        // Compared with the count shown: the exact one once it is known, else the server's own.
        const probe = await searchRuns({ ...query, page: 1, pageSize: 1, exactCount: exactRef.current }, controller.signal);
        if (countRef.current !== null && probe.count !== countRef.current) {
          reload();
          return;
        }
        if (running) {
          const page = await rowsByIds(running.split(","), controller.signal);
          setFresh((f) => ({ ...f, ...Object.fromEntries(page.results.map((r) => [r.id, r])) }));
        }
      } catch {
        // A failed poll is retried on the next tick; the table keeps what it shows.
      }
    };
    const timer = window.setInterval(tick, LIVE_MS);
    return () => {
      window.clearInterval(timer);
      controller.abort();
    };
    // reload is stable; the poll restarts when the query or the running set changes.
  }, [folderReady, query, running]);

  // Columns.
  const [chosen, setChosen] = useState<KeyColumn[] | null>(() => loadColumns());
  const [picking, setPicking] = useState(false);
  const keyColumns = useMemo(() => chosen ?? defaultColumns(keysRef.current), [chosen, keysVersion]);

  // Selection.
  const { selection, update, toggle } = useSelection();
  const selectedIds = Object.keys(selection);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);

  const filterError: ErrorSpan | null = useMemo(() => {
    const e = paged.error;
    if (e instanceof ApiError && (e.code === "invalid_filter" || e.code === "invalid_order_by")) {
      if (e.code === "invalid_order_by") return { start: 0, end: 0, message: e.message };
      return errorSpan(filter, e.detail as Partial<FilterErrorDetail>, e.message, scoped.offset);
    }
    return null;
  }, [paged.error, filter, scoped.offset]);

  const onSort = useCallback(
    (key: string) => {
      const descending = order?.key === key ? !order.descending : key !== "attributes.name";
      setParam({ order_by: `${key} ${descending ? "DESC" : "ASC"}` });
    },
    [order, setParam],
  );

  const columns: Column<RunRow>[] = useMemo(
    () => [
      {
        id: "select",
        header: "",
        width: "3rem",
        render: (row) => (
          <input
            type="checkbox"
            aria-label={runsEn.list.select(row.name)}
            checked={row.id in selection}
            onChange={(e) => toggle(row.id, row.name, e.target.checked)}
          />
        ),
      },
      {
        id: "name",
        header: runsEn.list.name,
        width: "minmax(12rem, 3fr)",
        sort: "attributes.name",
        render: (row) => (
          <Link to={`/runs/${row.id}`} title={row.path} className="run-link">
            {row.name}
          </Link>
        ),
      },
      {
        id: "folder",
        header: runsEn.list.folder,
        width: "minmax(11rem, 2fr)",
        sort: "attributes.path",
        render: (row) => {
          const where = row.path.slice(0, row.path.lastIndexOf("/")) || "/";
          return (
            <span className="mono folder-cell" title={row.path}>
              <bdi>{where}</bdi>
            </span>
          );
        },
      },
      {
        id: "labels",
        header: runsEn.list.labels,
        width: "minmax(9rem, 1.2fr)",
        render: (row) => <Labels labels={row.labels} />,
      },
      {
        id: "status",
        header: runsEn.list.status,
        width: "7.5rem",
        sort: "attributes.status",
        render: (row) => <StatusBadge status={row.run.status} />,
      },
      {
        id: "started",
        header: runsEn.list.started,
        width: "12.5rem",
        sort: "attributes.start_time",
        render: (row) => formatDate(row.run.started_at),
      },
      {
        id: "duration",
        header: runsEn.list.duration,
        width: "6.5rem",
        sort: "attributes.duration",
        render: (row) => formatDuration(runDuration(row.run)),
      },
      {
        id: "user",
        header: runsEn.list.user,
        width: "7rem",
        sort: "attributes.created_by",
        render: (row) => row.created_by ?? row.owner,
      },
      ...keyColumns.map(
        (c): Column<RunRow> => ({
          id: columnId(c),
          header: c.kind === "tags" ? `#${c.key}` : c.key,
          width: "minmax(6rem, 1fr)",
          sort: c.kind === "tags" ? undefined : `${c.kind}.${quoteKey(c.key)}`,
          render: (row) => {
            const v = cellValue(row, c);
            // Rounded to a few significant digits; the full value on hover.
            return typeof v === "number" ? (
              <span className="num" title={String(v)}>
                {formatNumber(v)}
              </span>
            ) : (
              <span title={v ?? undefined}>{v ?? "—"}</span>
            );
          },
        }),
      ),
    ],
    [keyColumns, selection, toggle],
  );

  const loadedRows = useCallback(() => {
    const rows: RunRow[] = [];
    for (let i = 0; i < (total ?? 0); i++) {
      const row = rowAt(i);
      if (row) rows.push(row);
    }
    return rows;
  }, [total, rowAt]);

  const title = folder.node ? runsEn.list.titleIn(folder.node.path) : folderId ? runsEn.list.title : runsEn.list.everything;
  const compareHref = `/compare?runs=${selectedIds.join(",")}`;
  const canCompare = selectedIds.length >= 2 && selectedIds.length <= MAX_COMPARE;

  async function deleteSelected() {
    // One at a time: each is its own transaction on the server, and a failure stops none of the others.
    const ids = [...selectedIds];
    const failed: string[] = [];
    let message = "";
    for (const id of ids) {
      try {
        await trashRun(id);
      } catch (e) {
        // Already gone is as good as deleted.
        if (e instanceof ApiError && e.status === 404) continue;
        failed.push(id);
        message = messageOf(e);
      }
    }
    update((s) => Object.fromEntries(Object.entries(s).filter(([id]) => failed.includes(id))));
    setNotice(
      failed.length
        ? runsEn.list.deleteFailed(failed.length, message)
        : runsEn.list.deleted(ids.length),
    );
    reload();
  }

  return (
    <div className="runs-page">
      <header className="page-head">
        <h1>{title}</h1>
        {folderId && (
          <label className="inline-check">
            <input
              type="checkbox"
              checked={recursiveShown}
              onChange={(e) => {
                setRecursiveShown(e.target.checked);
                setParam({ recursive: e.target.checked ? "1" : "0" });
              }}
            />
            {runsEn.list.recursive}
          </label>
        )}
      </header>
      <FilterBox
        value={draft}
        onChange={setDraft}
        onSubmit={(text) => setParam({ filter: text })}
        error={filterError}
        keys={knownKeys}
      />
      {folder.tooMany > 0 && <p className="notice">{runsEn.list.tooManyDirect(folder.tooMany)}</p>}
      <div className="runs-toolbar" role="toolbar" aria-label={runsEn.list.title}>
        <span className="muted" data-testid="runs-count">
          {runsEn.list.count(total ?? 0, total, countExact || exactTotal !== null)}
        </span>
        {runningIds.length > 0 && <span className="live-dot">{runsEn.list.live}</span>}
        <span className="spacer" />
        {selectedIds.length > 0 && (
          <>
            <span>{runsEn.list.selected(selectedIds.length)}</span>
            <button type="button" onClick={() => update(() => ({}))}>
              {runsEn.list.clearSelection}
            </button>
            {!selectedIds.some((id) => editable.current.get(id) === false) && (
              <button type="button" className="danger" onClick={() => setConfirmDelete(true)}>
                {runsEn.list.delete(selectedIds.length)}
              </button>
            )}
          </>
        )}
        <button
          type="button"
          onClick={() =>
            update((s) => ({ ...s, ...Object.fromEntries(loadedRows().map((r) => [r.id, r.name])) }))
          }
          disabled={!total}
        >
          {runsEn.list.selectAll}
        </button>
        <button type="button" onClick={() => setPicking(true)}>
          {runsEn.list.columns}
        </button>
        <a className="button" href={exportUrl(query)} download>
          {runsEn.list.csv}
        </a>
        <button
          type="button"
          className="primary"
          disabled={!canCompare}
          title={canCompare ? undefined : runsEn.list.compareHint}
          onClick={() => navigate(compareHref)}
        >
          {runsEn.list.compare(selectedIds.length)}
        </button>
      </div>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {folder.error ? (
        <ErrorState error={folder.error} />
      ) : paged.error && !filterError ? (
        <ErrorState error={paged.error} onRetry={reload} />
      ) : total === null ? (
        filterError ? null : <Loading />
      ) : total === 0 ? (
        <EmptyState title={filter ? runsEn.list.noMatch : runsEn.list.empty} hint={filter ? undefined : runsEn.list.emptyHint}>
          {!filter && <GetStarted />}
        </EmptyState>
      ) : (
        <VirtualTable
          label={title}
          columns={columns}
          count={total}
          rowAt={rowAt}
          rowKey={(row) => row.id}
          onRange={onRange}
          sort={order}
          onSort={onSort}
          rowClass={(row) => (row.id in selection ? "selected" : undefined)}
        />
      )}
      {picking && (
        <ColumnPicker
          keys={keysRef.current}
          chosen={keyColumns}
          onChange={(next) => {
            setChosen(next);
            saveColumns(next);
          }}
          onClose={() => setPicking(false)}
        />
      )}
      {confirmDelete && (
        <ConfirmDialog
          title={runsEn.list.deleteTitle(selectedIds.length)}
          body={runsEn.list.deleteBody}
          confirm={runsEn.list.delete(selectedIds.length)}
          danger
          onConfirm={deleteSelected}
          onClose={() => setConfirmDelete(false)}
        />
      )}
    </div>
  );
}
