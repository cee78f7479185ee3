import { render } from "@testing-library/react";
import { highlight } from "./FilterBox";

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
