import { act, fireEvent, render } from "@testing-library/react";
import { useState } from "react";
import { FilterBox, highlight } from "./FilterBox";
import type { KnownKeys } from "./filterKeys";

describe("highlight", () => {
  it("wraps tokens in coloured spans and marks only the bad characters", () => {
    const text = "params.lr = )";
    const { container } = render(<div>{highlight(text, { start: 12, end: 13, message: "m" })}</div>);
    expect(container.textContent).toBe(text);
    const bad = container.querySelectorAll(".tok-error");
    expect([...bad].map((e) => e.textContent)).toEqual([")"]);
    expect(container.querySelector(".tok-prefix")?.textContent).toBe("params.");
    expect(container.querySelector(".tok-key")?.textContent).toBe("lr");
  });

  it("splits a token the error covers only in part", () => {
    const { container } = render(<div>{highlight("metrics.accuracy", { start: 10, end: 12, message: "m" })}</div>);
    expect(container.textContent).toBe("metrics.accuracy");
    expect(container.querySelector(".tok-error")?.textContent).toBe("cu");
  });
});

describe("FilterBox completion", () => {
  const keys: KnownKeys = { attributes: [], params: [], metrics: ["val.accuracy"], tags: [], truncated: false };
  function Box() {
    const [value, setValue] = useState("");
    return <FilterBox value={value} onChange={setValue} onSubmit={() => {}} error={null} keys={keys} />;
  }
  const type = (input: HTMLInputElement, text: string) => {
    const at = input.selectionStart ?? input.value.length;
    const value = input.value.slice(0, at) + text + input.value.slice(at);
    fireEvent.change(input, { target: { value, selectionStart: at + text.length, selectionEnd: at + text.length } });
    input.setSelectionRange(at + text.length, at + text.length);
  };

  it("leaves the caret after what was typed right after Tab, not where the completion ended", async () => {
    const { getByTestId } = render(<Box />);
    const input = getByTestId("filter-input") as HTMLInputElement;
    type(input, "metrics.val.acc");
    fireEvent.keyDown(input, { key: "Tab" });
    expect(input.value).toBe("metrics.val.accuracy");
    expect(input.selectionStart).toBe("metrics.val.accuracy".length);
    type(input, " >"); // before the next animation frame, as a quick typist (or a loaded machine) does
    await act(() => new Promise<void>((done) => requestAnimationFrame(() => done())));
    type(input, " 0.9");
    expect(input.value).toBe("metrics.val.accuracy > 0.9");
  });
});
