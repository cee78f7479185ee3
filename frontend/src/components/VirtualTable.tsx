// A table that renders only the rows in view, so 10,000 rows scroll like 10. Rows are fetched by
// the caller page by page as they come into view (`onRange`); a row not fetched yet shows as a
// placeholder of the same height. Columns sort through the API (`onSort`), never in the browser.
import { useVirtualizer } from "@tanstack/react-virtual";
import { useEffect, useRef, type ReactNode } from "react";
import { en } from "../i18n/en";

export interface Column<T> {
  id: string;
  header: string;
  /** A CSS grid track, e.g. `minmax(12rem, 3fr)` or `9rem`. */
  width: string;
  render: (row: T) => ReactNode;
  /** The API ordering this column sorts by, when it sorts. */
  sort?: string;
}

export interface Sort {
  key: string;
  descending: boolean;
}

interface VirtualTableProps<T> {
  label: string;
  columns: Column<T>[];
  count: number;
  rowAt: (index: number) => T | undefined;
  rowKey: (row: T) => string;
  onRange?: (first: number, last: number) => void;
  sort?: Sort;
  onSort?: (key: string) => void;
  rowHeight?: number;
  /** Marks a row (e.g. the selected one). */
  rowClass?: (row: T) => string | undefined;
}

export function VirtualTable<T>(props: VirtualTableProps<T>) {
  const { label, columns, count, rowAt, rowKey, onRange, sort, onSort, rowClass } = props;
  const rowHeight = props.rowHeight ?? 40;
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scroller.current,
    estimateSize: () => rowHeight,
    overscan: 12,
    initialRect: { width: 1000, height: 600 },
  });
  const items = virtualizer.getVirtualItems();
  const first = items.length ? items[0].index : 0;
  const last = items.length ? items[items.length - 1].index : -1;

  useEffect(() => {
    if (last >= first) onRange?.(first, last);
  }, [first, last, onRange]);

  const template = columns.map((c) => c.width).join(" ");
  return (
    <div className="vtable" role="table" aria-label={label} aria-rowcount={count + 1}>
      <div className="vtable-scroll" ref={scroller} tabIndex={0} data-testid="vtable-scroll">
        <div className="vtable-row vtable-head" role="row" aria-rowindex={1} style={{ gridTemplateColumns: template }}>
          {columns.map((column) => {
            const active = sort && column.sort === sort.key;
            return (
              <div
                key={column.id}
                role="columnheader"
                aria-sort={active ? (sort.descending ? "descending" : "ascending") : undefined}
              >
                {column.sort && onSort ? (
                  <button
                    type="button"
                    className="sort"
                    title={en.browser.sortBy(column.header)}
                    onClick={() => onSort(column.sort!)}
                  >
                    {column.header}
                    <span aria-hidden="true">{active ? (sort.descending ? " ▼" : " ▲") : ""}</span>
                  </button>
                ) : (
                  column.header
                )}
              </div>
            );
          })}
        </div>
        <div role="rowgroup" style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
          {items.map((item) => {
            const row = rowAt(item.index);
            const loaded = row !== undefined;
            return (
              <div
                key={loaded ? rowKey(row) : `placeholder-${item.index}`}
                className={["vtable-row", loaded ? rowClass?.(row) : "vtable-placeholder"].filter(Boolean).join(" ")}
                role="row"
                aria-rowindex={item.index + 2}
                style={{ gridTemplateColumns: template, height: rowHeight, transform: `translateY(${item.start}px)` }}
              >
                {columns.map((column) => (
                  <div key={column.id} role="cell">
                    {loaded ? column.render(row) : null}
                  </div>
                ))}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
