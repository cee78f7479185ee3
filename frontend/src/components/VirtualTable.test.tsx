import { fireEvent, render, screen } from "@testing-library/react";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { VirtualTable, type Column } from "./VirtualTable";

const columns: Column<number>[] = [
  { id: "n", header: "Number", width: "1fr", sort: "n", render: (n) => `row ${n}` },
  { id: "sq", header: "Square", width: "1fr", render: (n) => String(n * n) },
];

// jsdom does no layout: give every element the size of a 1000 × 600 viewport, as a browser would.
const sizes = { clientWidth: 1000, clientHeight: 600, offsetWidth: 1000, offsetHeight: 600 };
const saved = Object.fromEntries(
  Object.keys(sizes).map((k) => [k, Object.getOwnPropertyDescriptor(HTMLElement.prototype, k)]),
);
beforeAll(() => {
  for (const [key, value] of Object.entries(sizes)) {
    Object.defineProperty(HTMLElement.prototype, key, { configurable: true, get: () => value });
  }
});
afterAll(() => {
  for (const [key, descriptor] of Object.entries(saved)) {
    if (descriptor) Object.defineProperty(HTMLElement.prototype, key, descriptor);
  }
});

describe("VirtualTable", () => {
  it("draws only the rows in view of 10,000 and asks for their range", () => {
    const onRange = vi.fn();
    render(
      <VirtualTable label="Numbers" columns={columns} count={10_000} rowAt={(i) => i} rowKey={String} onRange={onRange} />,
    );
    expect(screen.getByRole("table", { name: "Numbers" })).toHaveProperty("ariaRowCount", "10001");
    const rows = screen.getAllByRole("row");
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.length).toBeLessThan(100);
    expect(screen.getByText("row 0")).toBeTruthy();
    expect(screen.queryByText("row 9999")).toBeNull();
    expect(onRange).toHaveBeenCalledWith(0, expect.any(Number));
  });

  it("shows placeholders for rows not fetched yet, and sorts through the caller", () => {
    const onSort = vi.fn();
    render(
      <VirtualTable
        label="Numbers"
        columns={columns}
        count={50}
        rowAt={(i) => (i < 5 ? i : undefined)}
        rowKey={String}
        sort={{ key: "n", descending: true }}
        onSort={onSort}
      />,
    );
    expect(document.querySelectorAll(".vtable-placeholder").length).toBeGreaterThan(0);
    expect(screen.getByRole("columnheader", { name: /Number/ }).getAttribute("aria-sort")).toBe("descending");
    fireEvent.click(screen.getByRole("button", { name: /Number/ }));
    expect(onSort).toHaveBeenCalledWith("n");
  });
});
